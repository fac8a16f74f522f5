import { randomUUID } from "node:crypto";
import { MikroORM } from "@mikro-orm/postgresql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresMigrations } from "../../migrations/index.ts";
import { createOrm } from "../../server/infrastructure.ts";
import { createLogger } from "../../server/logger.ts";
import { localServices } from "../support/services.ts";

// Each run migrates a database of its own, so going down never touches the one the
// end-to-end tests use.
describe("PostgreSQL migrations (MikroORM)", () => {
  const database = `migrations_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const adminUrl = localServices().databaseUrl;
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  let admin: MikroORM;
  let orm: MikroORM;

  beforeAll(async () => {
    admin = await MikroORM.init({
      clientUrl: adminUrl,
      entities: [],
      discovery: { warnWhenNoEntities: false },
    });
    await admin.em.getConnection().execute(`CREATE DATABASE ${database}`);
    orm = createOrm({ url: url.toString(), poolMax: 2 }, createLogger("silent"));
  });

  afterAll(async () => {
    await orm?.close(true);
    await admin?.em.getConnection().execute(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin?.close(true);
  });

  async function tables(): Promise<string[]> {
    const rows = await orm.em
      .getConnection()
      .execute<{ table_name: string }[]>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
      );
    return rows.map((row) => row.table_name);
  }

  it("applies every migration in order and records it", async () => {
    const applied = await orm.migrator.up();
    expect(applied.map((migration) => migration.name)).toEqual(
      postgresMigrations.map((migration) => migration.name),
    );
    expect(await tables()).toEqual(
      expect.arrayContaining([
        "audit_log",
        "notification_template_versions",
        "notification_templates",
        "schema_migrations",
      ]),
    );
    expect(await orm.migrator.getPending()).toEqual([]);
  });

  it("is a no-op when run again", async () => {
    expect(await orm.migrator.up()).toEqual([]);
  });

  it("creates a working audit log", async () => {
    const connection = orm.em.getConnection();
    await connection.execute(
      "INSERT INTO audit_log (actor_type, actor_id, action, resource_type, resource_id, before, after) VALUES (?, ?, ?, ?, ?, ?, ?)",
      [
        "admin",
        "a-1",
        "template.update",
        "template",
        "t-1",
        JSON.stringify({ v: 1 }),
        JSON.stringify({ v: 2 }),
      ],
    );
    const [row] = await connection.execute<{ action: string; after: { v: number } }[]>(
      "SELECT action, after FROM audit_log WHERE resource_id = 't-1'",
    );
    expect(row).toEqual({ action: "template.update", after: { v: 2 } });
  });

  it("rolls every migration back down to an empty schema", async () => {
    const reverted = await orm.migrator.down({ to: 0 });
    expect(reverted.map((migration) => migration.name)).toEqual(
      postgresMigrations.map((migration) => migration.name).reverse(),
    );
    expect(await tables()).toEqual(["schema_migrations"]);
  });
});
