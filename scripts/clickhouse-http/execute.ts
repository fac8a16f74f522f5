// Runs one HTTP query on the engine: on the session's connection or a fresh one,
// after setting up what the server keeps in the query's context (readonly for
// GET, the database, URL settings), with inline INSERT data passed as bytes.

import type { Session } from "chdb";
import type { Engine, Outcome } from "./engine.ts";
import { clickHouseError } from "./errors.ts";
import type { QueryRequest } from "./request.ts";
import type { Sessions } from "./sessions.ts";
import { checkInsertData, isSettingName, quoteIdentifier, quoteString, type Statement } from "./sql.ts";

const nothing: Outcome = {
  output: Buffer.alloc(0),
  readRows: 0,
  readBytes: 0,
  writtenRows: 0,
  writtenBytes: 0,
  elapsedNs: 0,
};

function prelude(request: QueryRequest, fresh: boolean, inSession: boolean): string {
  const statements: string[] = [];
  // clickhouse-local, which chdb embeds, turns these on; the server does not.
  if (fresh) statements.push("SET implicit_select = 0, allow_introspection_functions = 0");
  // On a session's connection it would outlive the request and refuse the session's next POST.
  if (request.readonly && !inSession) statements.push("SET readonly = 2");
  if (request.database) statements.push(`USE ${quoteIdentifier(request.database)}`);
  if (request.settings.length > 0) {
    for (const [name] of request.settings) {
      if (!isSettingName(name)) throw clickHouseError("UNKNOWN_SETTING", `Unknown setting '${name}'`);
    }
    const assignments = request.settings.map(([name, value]) => `${name} = ${quoteString(value)}`);
    statements.push(`SET ${assignments.join(", ")}`);
  }
  return statements.join("; ");
}

function run(
  engine: Engine,
  connection: Session,
  request: QueryRequest,
  statement: Statement,
): Promise<Outcome> {
  const format = request.defaultFormat ?? "TabSeparated";
  const parameters = Object.keys(request.parameters).length > 0 ? request.parameters : undefined;
  const insert = statement.insertData;
  if (!insert) return engine.query(connection, request.text.toString("utf8"), format, parameters);
  const prefix = request.text.toString("utf8", 0, insert.prefixEnd);
  const data = request.text.subarray(insert.dataStart);
  // Over HTTP an empty body is an empty data stream and inserts nothing, where chdb
  // fails with NO_DATA_TO_INSERT before it even looks at the table or the format.
  if (data.length === 0) return Promise.resolve(nothing);
  checkInsertData(data, insert.format);
  // The raw insert path takes no parameters; with them, the data goes inline as text.
  if (parameters) return engine.query(connection, `${prefix}\n${data.toString("utf8")}`, format, parameters);
  return engine.insert(connection, prefix, data);
}

export async function execute(
  engine: Engine,
  sessions: Sessions,
  request: QueryRequest,
  statement: Statement,
): Promise<Outcome> {
  const options = request.session;
  // Before queueing, so a concurrent request in the same session fails at once, as on the server.
  const session = options ? sessions.acquire(options) : undefined;
  try {
    return await engine.exclusive(async () => {
      const fresh = session?.connection === undefined;
      const connection = session?.connection ?? engine.connect();
      if (session) session.connection = connection;
      try {
        const setup = prelude(request, fresh, session !== undefined);
        if (setup !== "") await engine.query(connection, setup, "TabSeparated");
        return await run(engine, connection, request, statement);
      } finally {
        if (!session) connection.close();
      }
    });
  } finally {
    if (session && options) sessions.release(session, options);
  }
}
