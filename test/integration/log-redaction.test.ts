// Real PostgreSQL errors, raised by the pg driver and wrapped by MikroORM as the service
// meets them, carrying a token or an address, logged through the service's own logger:
// the line must be there with its non-personal parts, and the personal value must not.
import { randomUUID } from "node:crypto";
import { Writable } from "node:stream";
import type { MikroORM } from "@mikro-orm/postgresql";
import { afterAll, describe, expect, it } from "vitest";
import { fingerprint } from "../../core/personal-data.ts";
import { createOrm } from "../../server/infrastructure.ts";
import { createLogger } from "../../server/logger.ts";
import { DeviceRow } from "../../storage/postgres/devices/device-row.ts";
import { localServices } from "../support/services.ts";

function captureLogs() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...chunk.toString().split("\n").filter(Boolean));
      done();
    },
  });
  return { logger: createLogger("info", sink), lines };
}

async function failureOf(work: () => Promise<unknown>): Promise<Error> {
  const error = await work().then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

describe("driver errors in the logs", () => {
  const orm: MikroORM = createOrm({ url: localServices().databaseUrl, poolMax: 2 }, createLogger("silent"));
  afterAll(() => orm.close(true));

  const row = (token: string, fields: Record<string, unknown> = {}) => ({
    id: randomUUID(),
    userId: randomUUID(),
    devicePlatform: "android_fcm" as const,
    token,
    lastSeenAt: new Date(),
    isActive: true,
    appVersion: null,
    createdAt: new Date(),
    updatedAt: new Date(),
    ...fields,
  });
  const insert = async (values: ReturnType<typeof row>) => {
    const em = orm.em.fork();
    em.create(DeviceRow, values);
    await em.flush();
  };
  const sql = (query: string, params: unknown[]) => orm.em.fork().getConnection().execute(query, params);

  /** Logs `error` as the service does and gives back the one line written, parsed, and the raw text. */
  async function logged(error: Error, as: "err" | "error") {
    const { logger, lines } = captureLogs();
    logger.error({ [as]: error, procedure: "test/Case" }, "unexpected error in a handler");
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines).toHaveLength(1);
    const text = lines[0] ?? "";
    const record = JSON.parse(text) as { message: string; procedure: string } & Record<
      string,
      { type: string; message: string; stack?: string }
    >;
    expect(record).toMatchObject({
      level: "error",
      message: "unexpected error in a handler",
      procedure: "test/Case",
    });
    return { record, text, err: record[as] };
  }

  it("a unique violation on a device token, wrapped by the ORM with pg's detail", async () => {
    const token = `fcm:${randomUUID()}`;
    await insert(row(token));
    const error = await failureOf(() => insert(row(token)));
    expect(error.message).toContain(token); // the driver really carries it
    for (const as of ["err", "error"] as const) {
      const { text, err } = await logged(error, as);
      expect(text).not.toContain(token);
      expect(err?.type).toBe("UniqueConstraintViolationException");
      expect(err?.message).toContain(
        'duplicate key value violates unique constraint "uq_device_tokens_token"',
      );
      expect(err?.message).toContain(`Key (token)=(${fingerprint(token)}) already exists.`);
      expect(err?.stack).toContain("duplicate key value");
    }
  });

  it("a unique violation straight from the pg driver, its detail field dropped", async () => {
    const token = `fcm:${randomUUID()}`;
    const query = "INSERT INTO device_tokens (user_id, device_platform, token) VALUES (?, 'ios_apns', ?)";
    await sql(query, [randomUUID(), token]);
    const error = await failureOf(() => sql(query, [randomUUID(), token]));
    expect(JSON.stringify({ ...error })).toContain(token);
    const { text, err } = await logged(error, "err");
    expect(text).not.toContain(token);
    expect(err?.message).toBe('duplicate key value violates unique constraint "uq_device_tokens_token"');
  });

  it("invalid uuid input that quotes a token", async () => {
    const token = `fcm:${randomUUID()}`;
    const error = await failureOf(() => orm.em.fork().findOne(DeviceRow, { id: token }));
    expect(error.message).toContain(token);
    const { text, err } = await logged(error, "err");
    expect(text).not.toContain(token);
    expect(err?.message).toBe(`invalid input syntax for type uuid: "${fingerprint(token)}"`);
  });

  it("a value too long that held an address", async () => {
    const address = `ivan.${randomUUID().slice(0, 8)}@example.com`;
    const token = `fcm:${randomUUID()}`;
    const error = await failureOf(() => insert(row(token, { appVersion: `${address} `.repeat(4) })));
    const { text, err } = await logged(error, "err");
    for (const secret of [address, token]) expect(text).not.toContain(secret);
    expect(err?.message).toContain("value too long for type character varying(64)");
  });

  it("a not-null violation whose detail shows the failing row with its token", async () => {
    const token = `fcm:${randomUUID()}`;
    const invalid = row(token, { devicePlatform: null as unknown as "android_fcm" });
    const raw = await failureOf(() =>
      sql("INSERT INTO device_tokens (user_id, device_platform, token) VALUES (?, NULL, ?)", [
        randomUUID(),
        token,
      ]),
    );
    expect(JSON.stringify({ ...raw })).toContain(token);
    const wrapped = await failureOf(() => orm.em.fork().insert(DeviceRow, invalid));
    expect(wrapped.message).toContain(`Failing row contains (${invalid.id}`);
    for (const each of [raw, wrapped]) {
      const { text, err } = await logged(each, "err");
      expect(text).not.toContain(token);
      expect(err?.message).toContain('null value in column "device_platform"');
    }
  });

  it("the ORM's own validation error, which prints the entity with its token", async () => {
    const token = `fcm:${randomUUID()}`;
    const error = await failureOf(() =>
      insert(row(token, { devicePlatform: null as unknown as "android_fcm" })),
    );
    expect(error.message).toContain(token);
    const { text, err } = await logged(error, "err");
    expect(text).not.toContain(token);
    expect(err?.message).toContain("Value for DeviceRow.devicePlatform is required");
  });
});
