// The embedded ClickHouse (chdb) behind the HTTP front. One data directory per
// process; every HTTP session, and every request outside a session, gets its own
// connection to it, so settings, the current database and temporary tables stay
// where the server would keep them. Queries run one at a time: chdb executes off
// the event loop, but the engine is shared and this is a development server.

import { createRequire } from "node:module";
import { Session } from "chdb";

interface NativeResult {
  bytes?: Uint8Array;
  elapsed?: number;
  rowsRead?: number;
  bytesRead?: number;
  rowsWritten?: number;
  bytesWritten?: number;
}

// chdb's JavaScript layer re-serialises JS values for binding (queryBindAsync) and
// only inserts into whitelisted text formats by table name (insert). The HTTP
// interface hands over parameter values already in ClickHouse's escaped form and
// arbitrary INSERT statements with binary-safe data; the addon underneath takes
// both as they are, on the connection a chdb Session owns.
interface NativeAddon {
  QueryAsyncConnection(
    connection: unknown,
    sql: string,
    format: string,
    params?: object,
  ): Promise<NativeResult>;
  InsertRawAsyncConnection(
    connection: unknown,
    prefix: string,
    data: Buffer,
    countLines: boolean,
  ): Promise<NativeResult>;
}

function loadAddon(): NativeAddon {
  const chdbRequire = createRequire(createRequire(import.meta.url).resolve("chdb"));
  const addon = (chdbRequire("./dist/loader.js") as { loadNative(): Partial<NativeAddon> }).loadNative();
  if (
    typeof addon.QueryAsyncConnection !== "function" ||
    typeof addon.InsertRawAsyncConnection !== "function"
  ) {
    throw new Error(
      "this chdb build lacks QueryAsyncConnection/InsertRawAsyncConnection; use the chdb version pinned in package.json",
    );
  }
  return addon as NativeAddon;
}

export interface Outcome {
  output: Buffer;
  readRows: number;
  readBytes: number;
  writtenRows: number;
  writtenBytes: number;
  elapsedNs: number;
}

export interface OutputFormat {
  name: string;
  contentType: string;
}

function outcome(result: NativeResult): Outcome {
  const bytes = result.bytes;
  return {
    output: bytes ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) : Buffer.alloc(0),
    readRows: result.rowsRead ?? 0,
    readBytes: result.bytesRead ?? 0,
    writtenRows: result.rowsWritten ?? 0,
    writtenBytes: result.bytesWritten ?? 0,
    elapsedNs: Math.round((result.elapsed ?? 0) * 1e9),
  };
}

export class Engine {
  readonly version: string;
  readonly timezone: string;
  readonly #dataDir: string;
  readonly #addon: NativeAddon;
  // Holds the engine (and its data directory) open while request connections come and go.
  readonly #anchor: Session;
  readonly #outputFormats: Map<string, OutputFormat>;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(
    dataDir: string,
    addon: NativeAddon,
    anchor: Session,
    info: { version: string; timezone: string; formats: Map<string, OutputFormat> },
  ) {
    this.#dataDir = dataDir;
    this.#addon = addon;
    this.#anchor = anchor;
    this.version = info.version;
    this.timezone = info.timezone;
    this.#outputFormats = info.formats;
  }

  static async open(dataDir: string): Promise<Engine> {
    const addon = loadAddon();
    const anchor = new Session(dataDir);
    const run = async (sql: string): Promise<string[][]> => {
      const result = outcome(await addon.QueryAsyncConnection(anchor.connection, sql, "TabSeparated"));
      return result.output
        .toString("utf8")
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => line.split("\t"));
    };
    const [[version = "", timezone = "UTC"] = []] = await run("SELECT version(), serverTimezone()");
    const formats = new Map<string, OutputFormat>();
    for (const [name = "", contentType = ""] of await run(
      "SELECT name, content_type FROM system.formats WHERE is_output",
    )) {
      formats.set(name.toLowerCase(), { name, contentType });
    }
    return new Engine(dataDir, addon, anchor, { version, timezone, formats });
  }

  outputFormat(name: string): OutputFormat | undefined {
    return this.#outputFormats.get(name.toLowerCase());
  }

  /** A new connection: a fresh session context (settings, database, temporary tables). */
  connect(): Session {
    return new Session(this.#dataDir);
  }

  query(connection: Session, sql: string, defaultFormat: string, parameters?: object): Promise<Outcome> {
    return this.#addon
      .QueryAsyncConnection(connection.connection, sql, defaultFormat, parameters)
      .then(outcome);
  }

  insert(connection: Session, statement: string, data: Buffer): Promise<Outcome> {
    return this.#addon.InsertRawAsyncConnection(connection.connection, statement, data, false).then(outcome);
  }

  /** Runs TASK after every task queued before it has settled. */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  close(): void {
    this.#anchor.close();
  }
}
