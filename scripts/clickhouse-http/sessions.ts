// HTTP sessions (session_id): each holds one engine connection, so SET, USE and
// temporary tables outlive the request. As in the server, a session expires
// session_timeout seconds after its last request ends, serves one request at a
// time (a concurrent one fails with SESSION_IS_LOCKED) and session_check=1
// refuses to create one.

import type { Session } from "chdb";
import { clickHouseError } from "./errors.ts";

export interface SessionOptions {
  id: string;
  timeoutSeconds: number;
  check: boolean;
  close: boolean;
}

export interface HttpSession {
  readonly id: string;
  /** Opened by the first request, inside the engine's queue. */
  connection: Session | undefined;
  busy: boolean;
  timer: NodeJS.Timeout | undefined;
}

export class Sessions {
  readonly #open = new Map<string, HttpSession>();

  get size(): number {
    return this.#open.size;
  }

  acquire(options: SessionOptions): HttpSession {
    let session = this.#open.get(options.id);
    if (!session) {
      if (options.check) throw clickHouseError("SESSION_NOT_FOUND", `Session ${options.id} not found`);
      session = { id: options.id, connection: undefined, busy: false, timer: undefined };
      this.#open.set(options.id, session);
    }
    if (session.busy) {
      throw clickHouseError("SESSION_IS_LOCKED", `Session ${options.id} is locked by a concurrent client`);
    }
    session.busy = true;
    clearTimeout(session.timer);
    return session;
  }

  release(session: HttpSession, options: SessionOptions): void {
    session.busy = false;
    if (options.close) {
      this.#close(session);
      return;
    }
    session.timer = setTimeout(() => this.#close(session), options.timeoutSeconds * 1000);
    session.timer.unref();
  }

  closeAll(): void {
    for (const session of this.#open.values()) this.#close(session);
  }

  #close(session: HttpSession): void {
    clearTimeout(session.timer);
    session.connection?.close();
    this.#open.delete(session.id);
  }
}
