import { randomUUID } from "node:crypto";
import type { MikroORM } from "@mikro-orm/postgresql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StructuredCampaignEvents } from "../../../consumers/index.ts";
import type { Caller } from "../../../core/caller.ts";
import { advance, type Campaign, type CampaignWrite } from "../../../core/campaigns/index.ts";
import type { CommittedEvents } from "../../../core/sending/index.ts";
import { createOrm } from "../../../server/infrastructure.ts";
import { createLogger } from "../../../server/logger.ts";
import { CampaignRepository, TemplateRepository, unpackEvents } from "../../../storage/index.ts";
import { localServices } from "../../support/services.ts";

// The store of campaigns on the real PostgreSQL: every write commits with its audit record and
// its events or not at all, pages are keyset pages, and due campaigns are taken once.
describe("CampaignRepository on PostgreSQL", () => {
  const orm: MikroORM = createOrm({ url: localServices().databaseUrl, poolMax: 6 }, createLogger("silent"));
  const committed: CommittedEvents[] = [];
  const repository = new CampaignRepository(orm, (rows) => committed.push(...rows));
  const events = new StructuredCampaignEvents();
  // Its own creator per run, so the lists below see only this run's campaigns.
  const marketer: Caller = { subject: `marketer-${randomUUID()}`, roles: ["marketer"], via: "jwt" };
  let templateId = "";

  beforeAll(async () => {
    const template = await new TemplateRepository(orm).create(
      {
        name: `campaign_repo_${randomUUID().slice(0, 8)}`,
        description: "",
        channel: "email",
        defaultLanguageCode: "ru",
        exampleVariables: {},
      },
      marketer,
    );
    templateId = template.id;
  });

  afterAll(async () => {
    // What the writes enqueued is nobody else's to publish.
    await sql("DELETE FROM notification_outbox WHERE id = ANY(?::bigint[])", [
      `{${committed.map((row) => row.id).join(",")}}`,
    ]);
    await orm.close(true);
  });

  function sql<T>(text: string, params: unknown[] = []): Promise<T[]> {
    return orm.em.fork().getConnection().execute<T[]>(text, params);
  }

  let made = 0;
  function campaign(changes: Partial<Campaign> = {}): Campaign {
    // Creation times a millisecond apart, in order, so that pages have one order to follow.
    const at = new Date(Date.UTC(2026, 0, 1) + made++);
    return {
      id: randomUUID(),
      name: `Весенняя распродажа ${made}`,
      description: "",
      targetSegmentId: "",
      templateId,
      variants: [],
      holdoutPercent: 0,
      winnerRollout: null,
      sendRatePerSecond: null,
      trackingEnabled: true,
      status: "draft",
      scheduledAt: null,
      startedAt: null,
      completedAt: null,
      createdBy: marketer.subject,
      updatedBy: marketer.subject,
      statsSummary: null,
      winnerDecision: null,
      revision: 1,
      createdAt: at,
      updatedAt: at,
      ...changes,
    };
  }

  const creation = (created: Campaign): CampaignWrite => ({
    campaign: created,
    action: "campaign.create",
    events: events.encode([
      {
        campaignId: created.id,
        campaignName: created.name,
        newStatus: "draft",
        previousStatus: "",
        changedAt: created.createdAt,
        updatedBy: created.createdBy,
        revision: 1,
      },
    ]),
  });

  /** The write of one step of the machine, with its event. */
  const step = (from: Campaign, to: Campaign["status"], scheduledAt?: Date): CampaignWrite => {
    const moved = advance(from, to, {
      by: "system",
      at: new Date(),
      ...(scheduledAt ? { scheduledAt } : {}),
    });
    return { campaign: moved.campaign, action: `campaign.${to}`, events: events.encode([moved.change]) };
  };

  it("stores every field and reads it back as it was given", async () => {
    const given = campaign({
      description: "Анонс распродажи",
      targetSegmentId: "segment-spring",
      variants: [
        { templateId, templateVersion: 0, sharePercent: 45 },
        { templateId, templateVersion: 2, sharePercent: 45 },
      ],
      holdoutPercent: 10,
      winnerRollout: { samplePercent: 20, waitSeconds: 3_600, metric: "click_rate" },
      winnerDecision: {
        metric: "click_rate",
        winner: "B",
        decidedAt: new Date("2026-12-01T12:00:00.123Z"),
        variants: [
          { variant: "A", templateId, sent: 10, opened: 4, clicked: 1, rate: 0.1 },
          { variant: "B", templateId, sent: 10, opened: 5, clicked: 3, rate: 0.3 },
        ],
      },
      sendRatePerSecond: 500,
      trackingEnabled: false,
      statsSummary: { sent: 3, delivered: 2, opened: 1 },
    });
    // Read back with the runner's progress of a campaign not started.
    const read = {
      ...given,
      progress: {
        audienceSize: null,
        submitted: 0,
        heldOut: 0,
        phase: "all",
        ratePerSecond: 0,
        etaSeconds: null,
      },
    };
    expect(await repository.create(creation(given), marketer)).toEqual(read);
    expect(await repository.get(given.id)).toEqual(read);
    expect(await repository.get(randomUUID())).toBeUndefined();
  });

  it("names the creator by UUID in the spec's created_by when their id is one, and always by subject", async () => {
    const byUuid = randomUUID();
    const [uuidCreator, otherCreator] = [campaign({ createdBy: byUuid }), campaign()];
    await repository.create(creation(uuidCreator), { ...marketer, subject: byUuid });
    await repository.create(creation(otherCreator), marketer);
    const rows = await sql<{ id: string; created_by: string | null; created_by_subject: string }>(
      "SELECT id, created_by, created_by_subject FROM notification_campaigns WHERE id IN (?, ?)",
      [uuidCreator.id, otherCreator.id],
    );
    expect(new Map(rows.map((row) => [row.id, [row.created_by, row.created_by_subject]]))).toEqual(
      new Map([
        [uuidCreator.id, [byUuid, byUuid]],
        [otherCreator.id, [null, marketer.subject]],
      ]),
    );
  });

  it("commits a change with its audit record and its event, and neither when the change is refused", async () => {
    const created = await repository.create(creation(campaign()), marketer);
    const before = committed.length;
    const scheduled = await repository.change(created.id, marketer, (current) =>
      step(current as Campaign, "scheduled", new Date(Date.UTC(2030, 0, 1))),
    );
    expect(scheduled).toMatchObject({
      status: "scheduled",
      revision: 2,
      scheduledAt: new Date(Date.UTC(2030, 0, 1)),
    });

    const told = committed.slice(before);
    expect(told).toHaveLength(1);
    const [row] = await sql<{ topic: string; events: Buffer }>(
      "SELECT topic, events FROM notification_outbox WHERE id = ?",
      [told[0]?.id],
    );
    const [event] = unpackEvents(row?.topic ?? "", row?.events ?? Buffer.alloc(0));
    expect(event?.key).toBe(created.id);
    expect(JSON.parse(Buffer.from(event?.value ?? []).toString()).data).toMatchObject({
      campaignId: created.id,
      previousStatus: "draft",
      newStatus: "scheduled",
    });

    await expect(
      repository.change(created.id, marketer, () => {
        throw new Error("refused");
      }),
    ).rejects.toThrow("refused");
    expect(committed.length).toBe(before + 1);
    expect(await repository.get(created.id)).toEqual(scheduled);
    const audit = await sql<{ action: string; actor_id: string; before: unknown; after: { status: string } }>(
      "SELECT action, actor_id, before, after FROM audit_log WHERE resource_type = 'campaign' AND resource_id = ? ORDER BY id",
      [created.id],
    );
    expect(
      audit.map((each) => [each.action, each.actor_id, each.before !== null, each.after.status]),
    ).toEqual([
      ["campaign.create", marketer.subject, false, "draft"],
      ["campaign.scheduled", marketer.subject, true, "scheduled"],
    ]);
  });

  it("lists by status, creator, part of the name and scheduled time, in keyset pages newest first", async () => {
    const creator: Caller = { ...marketer, subject: `lister-${randomUUID()}` };
    const tag = randomUUID().slice(0, 8);
    const created: Campaign[] = [];
    for (let index = 0; index < 7; index++) {
      const one = campaign({
        name: index % 2 === 0 ? `Spring_${tag} 100% ${index}` : `Autumn ${index}`,
        createdBy: creator.subject,
        ...(index < 3 ? { status: "scheduled", scheduledAt: new Date(Date.UTC(2031, 0, 1 + index)) } : {}),
      });
      created.push(await repository.create(creation(one), creator));
    }
    const newestFirst = [...created].reverse().map((each) => each.id);
    const ids = (page: Campaign[]) => page.map((each) => each.id);

    const pages: string[] = [];
    let pageToken: string | undefined;
    do {
      const page = await repository.list({
        createdBy: creator.subject,
        pageSize: 3,
        ...(pageToken ? { pageToken } : {}),
      });
      expect(page.campaigns.length).toBeLessThanOrEqual(3);
      pages.push(...ids(page.campaigns));
      pageToken = page.nextPageToken || undefined;
    } while (pageToken);
    expect(pages).toEqual(newestFirst);

    const only = (filter: object) => repository.list({ createdBy: creator.subject, pageSize: 50, ...filter });
    expect(ids((await only({ status: "scheduled" })).campaigns)).toEqual(newestFirst.slice(4));
    // In any case; % and _ are the name's own characters, not wildcards.
    expect(ids((await only({ nameContains: `spring_${tag} 100%` })).campaigns)).toEqual(
      created
        .filter((_, index) => index % 2 === 0)
        .reverse()
        .map((each) => each.id),
    );
    expect((await only({ nameContains: "spring% 1" })).campaigns).toEqual([]);
    expect(
      ids(
        (
          await only({
            scheduledFrom: new Date(Date.UTC(2031, 0, 2)),
            scheduledTo: new Date(Date.UTC(2031, 0, 3)),
          })
        ).campaigns,
      ),
    ).toEqual([created[1]?.id]);
    await expect(repository.list({ pageSize: 3, pageToken: "bm90LWEtdG9rZW4" })).rejects.toMatchObject({
      entry: { code: "VALIDATION_ERROR" },
    });
  });

  it("takes each due campaign once, skipping one another transaction holds and those not yet due", async () => {
    // Due long ago, so that nothing but this test's campaigns and older leftovers are due then.
    const due = new Date(Date.UTC(2001, 0, 1) + Math.floor(Math.random() * 1e9) * 1000);
    const mine = await Promise.all(
      [0, 0, 0, 60_000].map((later) =>
        repository.create(
          creation(campaign({ status: "scheduled", scheduledAt: new Date(due.getTime() + later) })),
          marketer,
        ),
      ),
    );
    const [held, taken, alsoTaken, notYet] = mine as [Campaign, Campaign, Campaign, Campaign];
    const started: string[] = [];
    const start = (campaign: Campaign) => {
      started.push(campaign.id);
      return step(campaign, "active");
    };

    let release = () => {};
    let locked = () => {};
    const isLocked = new Promise<void>((resolve) => {
      locked = resolve;
    });
    const holding = orm.em.fork().transactional(async (em) => {
      await (em as typeof orm.em).execute("SELECT id FROM notification_campaigns WHERE id = ? FOR UPDATE", [
        held.id,
      ]);
      locked();
      await new Promise<void>((resolve) => {
        release = resolve;
      });
    });
    await isLocked;
    const began = Date.now();
    await repository.takeDue(due, 1_000, marketer, start);
    expect(Date.now() - began).toBeLessThan(2_000);
    expect(started).toEqual(expect.arrayContaining([taken.id, alsoTaken.id]));
    expect(started).not.toContain(held.id);
    release();
    await holding;

    await Promise.all([0, 1, 2].map(() => repository.takeDue(due, 1_000, marketer, start)));
    const counts = (id: string) => started.filter((each) => each === id).length;
    expect([held, taken, alsoTaken, notYet].map((each) => counts(each.id))).toEqual([1, 1, 1, 0]);
    expect((await repository.get(held.id))?.status).toBe("active");
    expect((await repository.get(notYet.id))?.status).toBe("scheduled");
  });
});
