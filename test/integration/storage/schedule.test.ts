import { randomUUID } from "node:crypto";
import type { MikroORM } from "@mikro-orm/postgresql";
import { afterAll, describe, expect, it } from "vitest";
import type { SendRequest } from "../../../core/sending/index.ts";
import { createOrm } from "../../../server/infrastructure.ts";
import { createLogger } from "../../../server/logger.ts";
import { PostgresDueSends, PostgresUnitOfWork } from "../../../storage/index.ts";
import { testCipher } from "../../support/recipient-cipher.ts";
import { localServices } from "../../support/services.ts";

describe("scheduled sends on PostgreSQL", () => {
  const orm: MikroORM = createOrm({ url: localServices().databaseUrl, poolMax: 8 }, createLogger("silent"));
  const cipher = testCipher();
  const unitOfWork = new PostgresUnitOfWork(orm, cipher);
  const dueSends = new PostgresDueSends(orm, cipher);
  afterAll(() => orm.close(true));

  // Far in the future, so that only this test's requests are due at the times it asks about.
  const base = new Date(Date.UTC(2100, 0, 1) + Math.floor(Math.random() * 1e9) * 1000);
  const at = (seconds: number) => new Date(base.getTime() + seconds * 1000);
  const request = (sendAt: Date): SendRequest & { sendAt: Date } => ({
    requestId: `req-${randomUUID()}`,
    recipients: [{ userId: randomUUID(), emailTo: "ivan@example.com", deviceTokens: [] }],
    templateName: "order_confirmation",
    languageCode: "ru-RU",
    variables: { orderId: "A-1" },
    channels: ["email"],
    priority: "normal",
    sendAt,
    ttlSeconds: 3600,
    receivedAt: at(-60),
  });
  const add = (requests: (SendRequest & { sendAt: Date })[]) =>
    unitOfWork.run(async (tx) => Promise.all(requests.map((each) => tx.schedule.add(each))));

  it("keeps a request sealed until it is due, then releases it as it was given, once", async () => {
    const waiting = request(at(10));
    expect(await add([waiting, waiting])).toEqual([true, false]);
    const [row] = await orm.em
      .fork()
      .getConnection()
      .execute<{ sealed_request: string }[]>(
        "SELECT sealed_request FROM notification_scheduled_sends WHERE request_id = ?",
        [waiting.requestId],
      );
    expect(row?.sealed_request).not.toContain("ivan@example.com");

    // Only this test's request counts: a run that failed midway may have left others waiting.
    const released: SendRequest[] = [];
    const collect = async (requests: SendRequest[]) => {
      released.push(...requests.filter((each) => each.requestId === waiting.requestId));
    };
    await dueSends.releaseDue(at(9), 100, collect);
    expect(released).toEqual([]);
    await dueSends.releaseDue(at(10), 100, collect);
    await dueSends.releaseDue(at(11), 100, collect);
    expect(released).toEqual([waiting]);
  });

  it("never releases a cancelled request, and keeps one whose release failed", async () => {
    const [cancelled, failing] = [request(at(20)), request(at(20))];
    await add([cancelled, failing]);
    expect(await unitOfWork.run((tx) => tx.schedule.cancel(cancelled.requestId))).toBe(true);
    expect(await unitOfWork.run((tx) => tx.schedule.cancel(cancelled.requestId))).toBe(false);
    await expect(
      dueSends.releaseDue(at(21), 100, async () => {
        throw new Error("the pipeline is down");
      }),
    ).rejects.toThrow("the pipeline is down");
    const released: string[] = [];
    await dueSends.releaseDue(at(21), 100, async (requests) => {
      released.push(...requests.map((each) => each.requestId));
    });
    expect(released).toContain(failing.requestId);
    expect(released).not.toContain(cancelled.requestId);
  });

  it("shares due requests between several workers without releasing one twice", async () => {
    const requests = Array.from({ length: 120 }, (_, index) => request(at(30 + index / 1000)));
    await add(requests);
    const released: string[] = [];
    const worker = async () => {
      while (
        (await dueSends.releaseDue(at(31), 7, async (batch) => {
          await new Promise((resolve) => setTimeout(resolve, 5));
          released.push(...batch.map((each) => each.requestId));
        })) > 0
      ) {}
    };
    await Promise.all([worker(), worker(), worker()]);
    const ours = new Set(requests.map((each) => each.requestId));
    const releasedOfOurs = released.filter((id) => ours.has(id));
    expect(releasedOfOurs).toHaveLength(120);
    expect(new Set(releasedOfOurs)).toEqual(ours);
  });
});
