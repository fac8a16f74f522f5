import { randomUUID } from "node:crypto";
import type { MikroORM } from "@mikro-orm/postgresql";
import { afterAll, describe, expect, it } from "vitest";
import type { Caller } from "../../../core/caller.ts";
import { DomainError } from "../../../core/errors.ts";
import { PreferenceManager, type PreferenceSettings } from "../../../core/preferences/index.ts";
import { createOrm } from "../../../server/infrastructure.ts";
import { createLogger } from "../../../server/logger.ts";
import { PreferenceRepository } from "../../../storage/index.ts";
import { localServices } from "../../support/services.ts";

const service: Caller = { subject: "profile-service", roles: ["service"], via: "jwt" };

const quiet: PreferenceSettings = {
  globalUnsubscribe: false,
  channels: { sms: false, email: true },
  types: {
    marketing: { enabled: false, channels: [] },
    order_status: { enabled: true, channels: ["push_fcm"] },
  },
};

interface AuditRow {
  action: string;
  actor_id: string;
  before: { revision: number } | null;
  after: { revision: number };
}

describe("PreferenceRepository on PostgreSQL", () => {
  const orm: MikroORM = createOrm({ url: localServices().databaseUrl, poolMax: 10 }, createLogger("silent"));
  const repository = new PreferenceRepository(orm);
  const manager = new PreferenceManager(repository);

  afterAll(() => orm.close(true));

  async function auditOf(userId: string): Promise<AuditRow[]> {
    return orm.em
      .fork()
      .getConnection()
      .execute<AuditRow[]>(
        "SELECT action, actor_id, before, after FROM audit_log WHERE resource_type = 'user_preferences' AND resource_id = ? ORDER BY id",
        [userId],
      );
  }

  it("finds nothing for a user who never saved", async () => {
    expect(await repository.find(randomUUID())).toBeUndefined();
  });

  it("saves the first revision and reads back exactly what was saved", async () => {
    const userId = randomUUID();
    const saved = await manager.update({ userId, settings: quiet, expectedRevision: 0 }, service);
    expect(saved).toMatchObject({ userId, ...quiet, isDefault: false, revision: 1 });
    expect(await repository.find(userId)).toEqual(saved);
  });

  it("replaces the settings as a whole", async () => {
    const userId = randomUUID();
    await manager.update({ userId, settings: quiet, expectedRevision: 0 }, service);
    const replaced = await manager.update(
      { userId, settings: { globalUnsubscribe: true, channels: {}, types: {} }, expectedRevision: 1 },
      service,
    );
    expect(await repository.find(userId)).toEqual(replaced);
    expect(replaced).toMatchObject({ globalUnsubscribe: true, channels: {}, types: {}, revision: 2 });
  });

  it("lets exactly one of two updates based on the same revision through", async () => {
    const userId = randomUUID();
    await manager.update({ userId, settings: quiet, expectedRevision: 0 }, service);
    const results = await Promise.allSettled([
      manager.update(
        { userId, settings: { ...quiet, globalUnsubscribe: true }, expectedRevision: 1 },
        service,
      ),
      manager.update({ userId, settings: { ...quiet, channels: {} }, expectedRevision: 1 }, service),
    ]);
    const failures = results.filter((result) => result.status === "rejected");
    expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(1);
    expect(failures).toHaveLength(1);
    const reason = (failures[0] as PromiseRejectedResult).reason as DomainError;
    expect(reason).toBeInstanceOf(DomainError);
    expect(reason.entry.code).toBe("STALE_REVISION");
    expect((await repository.find(userId))?.revision).toBe(2);
  });

  it("serialises concurrent first saves of the same user: revisions 1, 2, 3, 4", async () => {
    const userId = randomUUID();
    const saved = await Promise.all(
      Array.from({ length: 4 }, () =>
        manager.update({ userId, settings: quiet, expectedRevision: 0 }, service),
      ),
    );
    expect(saved.map((each) => each.revision).sort()).toEqual([1, 2, 3, 4]);
    expect((await auditOf(userId)).map((row) => row.after.revision).sort()).toEqual([1, 2, 3, 4]);
  });

  it("records each write with the state before and after, and nothing for a refused one", async () => {
    const userId = randomUUID();
    await manager.update({ userId, settings: quiet, expectedRevision: 0 }, service);
    await manager.update({ userId, settings: quiet, expectedRevision: 1 }, service);
    await expect(
      manager.update({ userId, settings: quiet, expectedRevision: 1 }, service),
    ).rejects.toMatchObject({
      entry: { code: "STALE_REVISION" },
    });
    const rows = await auditOf(userId);
    expect(
      rows.map((row) => [row.action, row.actor_id, row.before?.revision ?? null, row.after.revision]),
    ).toEqual([
      ["preferences.update", "profile-service", null, 1],
      ["preferences.update", "profile-service", 1, 2],
    ]);
  });
});
