import { randomUUID } from "node:crypto";
import type { MikroORM } from "@mikro-orm/postgresql";
import { afterAll, describe, expect, it } from "vitest";
import type { DeliveryKey } from "../../../core/sending/index.ts";
import { createOrm } from "../../../server/infrastructure.ts";
import { createLogger } from "../../../server/logger.ts";
import { PostgresUnitOfWork } from "../../../storage/index.ts";
import { testCipher } from "../../support/recipient-cipher.ts";
import { localServices } from "../../support/services.ts";

describe("delivery claims in the PostgreSQL unit of work", () => {
  const orm: MikroORM = createOrm({ url: localServices().databaseUrl, poolMax: 8 }, createLogger("silent"));
  const unitOfWork = new PostgresUnitOfWork(orm, testCipher());
  afterAll(() => orm.close(true));

  const keysOf = (requestId: string): DeliveryKey[] => [
    { requestId, recipientKey: "user:1", channel: "email" },
    { requestId, recipientKey: "user:1", channel: "push_fcm" },
    { requestId, recipientKey: "user:2", channel: "email" },
  ];
  const claim = (keys: DeliveryKey[]) => unitOfWork.run((tx) => tx.claims.claim(keys));

  it("gives a new message id on the first claim and the same one, as a duplicate, afterwards", async () => {
    const requestId = `req-${randomUUID()}`;
    const first = await claim(keysOf(requestId));
    expect(first.map((each) => each.duplicate)).toEqual([false, false, false]);
    expect(new Set(first.map((each) => each.messageId)).size).toBe(3);

    // The request again, with one more recipient and a key repeated within the call.
    const more: DeliveryKey = { requestId, recipientKey: "user:3", channel: "sms" };
    const again = await claim([...keysOf(requestId), more, more]);
    expect(again.map((each) => each.duplicate)).toEqual([true, true, true, false, false]);
    expect(again.slice(0, 3).map((each) => each.messageId)).toEqual(first.map((each) => each.messageId));
    expect(again[3]?.messageId).toBe(again[4]?.messageId);
  });

  it("lets exactly one of several concurrent claims of the same deliveries be the first", async () => {
    const requestId = `req-${randomUUID()}`;
    // Orders differ between claimers, as partitions would deliver them.
    const orders = [keysOf(requestId), [...keysOf(requestId)].reverse(), keysOf(requestId).slice(1)];
    const outcomes = await Promise.all([...orders, ...orders].map(claim));
    for (const key of keysOf(requestId)) {
      const claims = outcomes
        .flat()
        .filter((each) => each.key.recipientKey === key.recipientKey && each.key.channel === key.channel);
      expect(claims.filter((each) => !each.duplicate)).toHaveLength(1);
      expect(new Set(claims.map((each) => each.messageId)).size).toBe(1);
    }
  });

  it("keeps no claim of a step that rolled back", async () => {
    const requestId = `req-${randomUUID()}`;
    await expect(
      unitOfWork.run(async (tx) => {
        await tx.claims.claim(keysOf(requestId));
        throw new Error("the step failed after claiming");
      }),
    ).rejects.toThrow("the step failed after claiming");
    expect((await claim(keysOf(requestId))).map((each) => each.duplicate)).toEqual([false, false, false]);
  });
});
