// The clients of `bench/gateway.ts`, as the bench sees them: users spread over a few child
// processes (bench/gateway-clients.ts), each process under its own limit of open files, and
// what each user's sockets received, checked for gaps and duplicates as it arrives.
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { REPO_ROOT } from "../test/support/services.ts";

export interface BenchUser {
  index: number;
  id: string;
  token: string;
  /** The last seq this user's socket received (its head at Ready before any); -1 before the first Ready. */
  lastSeq: number;
  /** When the socket opened last reached CaughtUp; undefined while it is not open. */
  caughtUpAt: number | undefined;
}

/** Receipt of one message: who, which seq, our message id, when. */
export type Receipt = (user: BenchUser, seq: number, messageId: string, at: number) => void;

interface Batch {
  ready?: [number, number][];
  got?: [number, number, string, number][];
  caughtUp?: [number, number, number][];
  failed?: [number, string][];
  dropped?: true;
}

export class ClientFleet {
  /** Messages that skipped a seq, and messages received again, since the fleet started. */
  gaps = 0;
  duplicates = 0;
  /** Sockets that failed to open or were closed by the server, by reason. */
  readonly failures = new Map<string, number>();
  onReceipt: Receipt | undefined;
  private open = 0;
  private readonly children: ChildProcess[] = [];
  private readonly drops: (() => void)[] = [];
  private crash: Error | undefined;

  constructor(
    private readonly users: readonly BenchUser[],
    processes: number,
    private readonly addresses: readonly string[],
  ) {
    for (let number = 0; number < processes; number++) {
      const child = spawn(process.execPath, [...process.execArgv, "bench/gateway-clients.ts"], {
        cwd: REPO_ROOT,
        stdio: ["pipe", "pipe", "inherit"],
      });
      child.once("exit", (code, signal) => {
        this.crash ??= new Error(`client process ${number} exited (${signal ?? code})`);
      });
      createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) =>
        this.take(number, JSON.parse(line) as Batch),
      );
      this.children.push(child);
    }
  }

  /** Users whose socket is open (at CaughtUp and not closed since). */
  get connected(): number {
    return this.open;
  }

  get pids(): number[] {
    return this.children.flatMap((child) => (child.pid === undefined ? [] : [child.pid]));
  }

  /** Throws if a client process died: the figures of the phase would be wrong. */
  check(): void {
    if (this.crash) throw this.crash;
  }

  /**
   * Opens a socket for each user, resuming from its last seq when `resume`; `inFlight` per
   * process at once, each started at a random moment within `spreadMs`.
   */
  connect(
    url: string,
    users: readonly BenchUser[],
    options: { inFlight: number; resume: boolean; spreadMs?: number },
  ): void {
    this.byProcess(users).forEach((ofProcess, number) => {
      const open = {
        url,
        addresses: this.addresses,
        inFlight: options.inFlight,
        spreadMs: options.spreadMs ?? 0,
        users: ofProcess.map((user) => ({
          index: user.index,
          token: user.token,
          ...(options.resume ? { since: user.lastSeq } : {}),
        })),
      };
      this.children[number]?.stdin?.write(`${JSON.stringify({ open })}\n`);
    });
  }

  /** Cuts the users' sockets all at once; resolves when every client process saw them closed. */
  async drop(users: readonly BenchUser[]): Promise<void> {
    const byProcess = this.byProcess(users);
    await Promise.all(
      byProcess.map(
        (ofProcess, number) =>
          new Promise<void>((resolve) => {
            this.drops[number] = resolve;
            const indexes = ofProcess.map((user) => user.index);
            this.children[number]?.stdin?.write(`${JSON.stringify({ drop: { indexes } })}\n`);
          }),
      ),
    );
    for (const user of users) {
      if (user.caughtUpAt !== undefined) this.open--;
      user.caughtUpAt = undefined;
    }
  }

  stop(): void {
    for (const child of this.children) {
      child.removeAllListeners("exit");
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  }

  private byProcess(users: readonly BenchUser[]): BenchUser[][] {
    const byProcess: BenchUser[][] = this.children.map(() => []);
    for (const user of users) byProcess[user.index % this.children.length]?.push(user);
    return byProcess;
  }

  private take(number: number, batch: Batch): void {
    for (const [index, headSeq] of batch.ready ?? []) {
      const user = this.users[index] as BenchUser;
      if (user.lastSeq < 0) user.lastSeq = headSeq;
    }
    for (const [index, seq, messageId, at] of batch.got ?? []) {
      const user = this.users[index] as BenchUser;
      if (seq <= user.lastSeq) this.duplicates++;
      else if (seq > user.lastSeq + 1) this.gaps++;
      user.lastSeq = Math.max(user.lastSeq, seq);
      this.onReceipt?.(user, seq, messageId, at);
    }
    for (const [index, , at] of batch.caughtUp ?? []) {
      const user = this.users[index] as BenchUser;
      if (user.caughtUpAt === undefined) this.open++;
      user.caughtUpAt = at;
    }
    for (const [index, reason] of batch.failed ?? []) {
      const user = this.users[index] as BenchUser;
      if (user.caughtUpAt !== undefined) this.open--;
      user.caughtUpAt = undefined;
      this.failures.set(reason, (this.failures.get(reason) ?? 0) + 1);
    }
    if (batch.dropped) this.drops[number]?.();
  }
}
