import { randomUUID } from "node:crypto";
import { type JsonObject, toJson } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  type ClickHouseClient,
  ClickHouseLogLevel,
  createClient as createClickHouse,
} from "@clickhouse/client";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Role } from "../../core/caller.ts";
import type { DeliveryStatsRow } from "../../core/delivery-stats/index.ts";
import { ErrorDetailSchema } from "../../gen/platform/notification/v1/errors_pb.ts";
import {
  DeliveryStatsDimension,
  DeliveryStatus,
  GetDeliveryStatsResponseSchema,
  StatsService,
  TimeBucket,
} from "../../gen/platform/notification/v1/stats_service_pb.ts";
import { createLogger } from "../../server/logger.ts";
import { ClickHouseDeliveryStatsWriter } from "../../stats/index.ts";
import { AUTH_ENV, authHeaders, authInterceptor } from "../support/credentials.ts";
import { type ServiceProcess, startServiceProcess } from "../support/service-process.ts";
import { localServices } from "../support/services.ts";
import { JSON_OPTIONS } from "../support/surfaces.ts";

// StatsService through the built service on Connect and REST, over rows the real writer put
// in the shared ClickHouse front. Other runs write there too: every query here filters by
// this run's own template names, so it sees only its own rows.

const RUN = randomUUID().slice(0, 8);
const WELCOME = `e2e_stats_welcome_${RUN}`;
const PROMO = `e2e_stats_promo_${RUN}`;
const NOTHING = `e2e_stats_nothing_${RUN}`;
const CAMPAIGN = `cmp-${RUN}`;
const START = "2026-11-30T10:00:00Z";
const END = "2026-11-30T12:00:00Z";
const URL_PATH = "/api/v1/notifications/stats/deliveries";

let service: ServiceProcess;
let clickhouse: ClickHouseClient;

function change(
  messageId: string,
  minute: number,
  status: DeliveryStatsRow["status"],
  more: Partial<DeliveryStatsRow> = {},
): DeliveryStatsRow {
  return {
    occurredAt: new Date(Date.parse(START) + minute * 60_000),
    messageId,
    requestId: `req-${messageId}`,
    userId: "user-1",
    channel: "email",
    status,
    templateName: WELCOME,
    templateVersion: 1,
    language: "ru",
    ...more,
  };
}

const [A, B, C] = [randomUUID(), randomUUID(), randomUUID()];
const promo = { channel: "sms", templateName: PROMO, campaignId: CAMPAIGN } as const;
const ROWS: DeliveryStatsRow[] = [
  change(A, 0, "queued"),
  change(A, 1, "sent", { provider: "smtp" }),
  change(A, 2, "delivered", { provider: "smtp" }),
  change(B, 5, "queued"),
  change(B, 6, "failed", { provider: "smtp", errorCode: "MAILBOX_FULL" }),
  change(C, 70, "queued", promo),
  change(C, 71, "sent", { ...promo, provider: "smsc" }),
  // Outside the range: the end is exclusive.
  change(randomUUID(), 120, "queued"),
];

function stats(roles: Role[] = ["marketer"]) {
  const transport = createConnectTransport({
    baseUrl: service.httpUrl,
    httpVersion: "1.1",
    interceptors: [authInterceptor(`e2e-${roles.join("-")}`, roles)],
  });
  return createClient(StatsService, transport);
}

async function rest(
  query: string,
  roles: Role[] = ["support"],
): Promise<{ status: number; body: JsonObject }> {
  const response = await fetch(`${service.httpUrl}${URL_PATH}?${query}`, {
    headers: authHeaders(`e2e-${roles.join("-")}`, roles),
  });
  return { status: response.status, body: (await response.json()) as JsonObject };
}

const range = `start_time=${START}&end_time=${END}`;

beforeAll(async () => {
  clickhouse = createClickHouse({
    url: localServices().clickhouseUrl,
    log: { level: ClickHouseLogLevel.OFF },
  });
  const writer = new ClickHouseDeliveryStatsWriter(
    clickhouse,
    { batchRows: 100, flushIntervalMs: 10, maxBufferedRows: 1_000, retryInitialMs: 50, retryMaxMs: 200 },
    createLogger("silent"),
  );
  for (const row of ROWS) await writer.record(row);
  await writer.flush();
  // A's delivery reported again, in a batch of its own: still one delivered message.
  await writer.record(change(A, 2, "delivered", { provider: "smtp" }));
  await writer.close(5_000);
  service = await startServiceProcess({ role: "api", env: AUTH_ENV });
});

afterAll(async () => {
  await service?.stop();
  await clickhouse?.close();
});

describe("StatsService.GetDeliveryStats", () => {
  it("counts messages per status over Connect, a repeated report once", async () => {
    const answer = await stats().getDeliveryStats({
      startTime: timestampFromDate(new Date(START)),
      endTime: timestampFromDate(new Date(END)),
      groupBy: [DeliveryStatsDimension.STATUS],
      templateNames: [WELCOME, PROMO],
    });
    expect(answer.groups.map((group) => [DeliveryStatus[group.status], Number(group.messages)])).toEqual([
      ["DELIVERED", 1],
      ["FAILED", 1],
      ["QUEUED", 3],
      ["SENT", 2],
    ]);
  });

  it("buckets by hour and groups by channel and template over REST", async () => {
    const { status, body } = await rest(
      `${range}&bucket=hour&group_by=channel&group_by=template_name&template_names=${WELCOME}&template_names=${PROMO}`,
    );
    expect(status).toBe(200);
    expect(body).toEqual({
      groups: [
        {
          bucket_start_time: "2026-11-30T10:00:00Z",
          channel: "CHANNEL_EMAIL",
          template_name: WELCOME,
          messages: "2",
          // The dimensions not grouped by, at their zero values.
          status: "DELIVERY_STATUS_UNSPECIFIED",
          template_version: 0,
          provider: "",
          campaign_id: "",
        },
        {
          bucket_start_time: "2026-11-30T11:00:00Z",
          channel: "CHANNEL_SMS",
          template_name: PROMO,
          messages: "1",
          status: "DELIVERY_STATUS_UNSPECIFIED",
          template_version: 0,
          provider: "",
          campaign_id: "",
        },
      ],
    });
  });

  it("answers the same on Connect as on REST", async () => {
    const answer = await stats(["admin"]).getDeliveryStats({
      startTime: timestampFromDate(new Date(START)),
      endTime: timestampFromDate(new Date(END)),
      bucket: TimeBucket.MINUTE,
      groupBy: [DeliveryStatsDimension.PROVIDER, DeliveryStatsDimension.TEMPLATE_VERSION],
      statuses: [DeliveryStatus.SENT, DeliveryStatus.FAILED],
      templateNames: [WELCOME, PROMO],
    });
    const { body } = await rest(
      `${range}&bucket=minute&group_by=provider&group_by=template_version&statuses=sent&statuses=failed&template_names=${WELCOME}&template_names=${PROMO}`,
    );
    expect(toJson(GetDeliveryStatsResponseSchema, answer, JSON_OPTIONS)).toMatchObject(body);
    expect(answer.groups.map((group) => [group.bucketStartTime?.seconds, group.provider])).toEqual([
      [BigInt(Date.parse("2026-11-30T10:01:00Z") / 1000), "smtp"],
      [BigInt(Date.parse("2026-11-30T10:06:00Z") / 1000), "smtp"],
      [BigInt(Date.parse("2026-11-30T11:11:00Z") / 1000), "smsc"],
    ]);
  });

  it("filters by channel, status and campaign", async () => {
    const messages = async (filters: string) => {
      const { body } = await rest(`${range}&template_names=${WELCOME}&template_names=${PROMO}&${filters}`);
      return (body.groups as { messages: string }[]).map((group) => Number(group.messages));
    };
    expect(await messages("channels=sms")).toEqual([1]);
    expect(await messages(`campaign_ids=${CAMPAIGN}&statuses=sent`)).toEqual([1]);
    expect(await messages("channels=email&statuses=queued&statuses=delivered")).toEqual([2]);
  });

  it("answers no groups when nothing matched", async () => {
    const { status, body } = await rest(`${range}&group_by=status&template_names=${NOTHING}`);
    expect(status).toBe(200);
    expect(body).toEqual({ groups: [] });
  });

  it("refuses a missing, reversed or too long range with INVALID_ARGUMENT", async () => {
    const refused = await stats()
      .getDeliveryStats({
        startTime: timestampFromDate(new Date("2026-11-01T00:00:00Z")),
        endTime: timestampFromDate(new Date("2026-11-03T00:00:00Z")),
        bucket: TimeBucket.MINUTE,
      })
      .catch(ConnectError.from);
    expect(refused).toBeInstanceOf(ConnectError);
    expect((refused as ConnectError).code).toBe(Code.InvalidArgument);
    expect((refused as ConnectError).findDetails(ErrorDetailSchema)[0]).toMatchObject({
      code: "VALIDATION_ERROR",
      detail:
        "end_time: the range spans 2880 minute buckets, at most 1440 are allowed; shorten the range or take a longer bucket",
      pointer: "/end_time",
    });

    const reversed = await rest(`start_time=${END}&end_time=${START}`);
    expect(reversed.status).toBe(400);
    expect(reversed.body).toEqual({
      errors: [
        {
          code: "VALIDATION_ERROR",
          title: "Ошибка валидации запроса",
          detail: "end_time: must be after start_time",
          source: { parameter: "end_time" },
        },
      ],
    });
    const missing = await rest(`end_time=${END}`);
    expect(missing.status).toBe(400);
    expect(JSON.stringify(missing.body)).toContain("start_time");
    expect((await rest(`start_time=2025-01-01T00:00:00Z&end_time=${END}`)).status).toBe(400);
    expect((await rest(`${range}&group_by=status&group_by=status`)).status).toBe(400);
    expect((await rest(`${range}&bucket=fortnight`)).status).toBe(400);
  });

  it("refuses end users, other services and anonymous callers", async () => {
    expect((await rest(range, ["user"])).status).toBe(403);
    expect((await rest(range, ["service"])).status).toBe(403);
    expect((await fetch(`${service.httpUrl}${URL_PATH}?${range}`)).status).toBe(401);
    const denied = await stats(["user"])
      .getDeliveryStats({
        startTime: timestampFromDate(new Date(START)),
        endTime: timestampFromDate(new Date(END)),
      })
      .catch(ConnectError.from);
    expect((denied as ConnectError).code).toBe(Code.PermissionDenied);
  });

  it("lists the endpoint in the served OpenAPI document", async () => {
    const document = (await (await fetch(`${service.httpUrl}/api/v1/notifications/openapi.json`)).json()) as {
      paths: Record<string, { get?: { operationId?: string } }>;
    };
    expect(document.paths[URL_PATH]?.get?.operationId).toBe("StatsService_GetDeliveryStats");
  });
});
