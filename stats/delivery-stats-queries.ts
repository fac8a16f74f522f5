import { type ClickHouseClient, ClickHouseError } from "@clickhouse/client";
import { CHANNELS, type Channel } from "../core/channels.ts";
import {
  DELIVERY_STATUSES,
  type DeliveryStatsCount,
  type DeliveryStatsDimension,
  type DeliveryStatsQueries,
  type DeliveryStatsQuery,
  type DeliveryStatus,
  type TimeBucket,
} from "../core/delivery-stats/index.ts";
import { DomainError, ErrorCatalog } from "../core/errors.ts";

// The only SQL text that varies with a request, chosen from these fixed lists; every value
// of a request travels as a query parameter, bound by the server.
const COLUMN_OF: Record<DeliveryStatsDimension, string> = {
  status: "status",
  channel: "channel",
  templateName: "template_name",
  templateVersion: "template_version",
  provider: "provider",
  campaignId: "campaign_id",
};

// Week and month starts are Dates; made DateTimes in UTC, not in the server's time zone.
export const BUCKET_START_OF: Record<TimeBucket, string> = {
  minute: "toStartOfMinute(event_time)",
  hour: "toStartOfHour(event_time)",
  day: "toStartOfDay(event_time)",
  week: "toDateTime(toMonday(event_time), 'UTC')",
  month: "toDateTime(toStartOfMonth(event_time), 'UTC')",
};

const FILTERS = [
  ["channels", "channel"],
  ["statuses", "status"],
  ["templateNames", "template_name"],
  ["campaignIds", "campaign_id"],
] as const;

// ClickHouse saying it cannot take the query now, rather than that the query is wrong.
const BUSY_CODES = new Set([
  "159", // TIMEOUT_EXCEEDED
  "202", // TOO_MANY_SIMULTANEOUS_QUERIES
  "241", // MEMORY_LIMIT_EXCEEDED
]);

export const TABLE = "notification_delivery_stats";
// A dashboard's query that takes longer is stopped and answered SERVICE_UNAVAILABLE, so one
// heavy range does not hold ClickHouse for everyone else.
const MAX_EXECUTION_SECONDS = 10;
const STATUSES = new Set<string>(DELIVERY_STATUSES);
const CHANNEL_NAMES = new Set<string>(CHANNELS);

interface CountRow {
  bucket_start?: number;
  status?: string;
  channel?: string;
  template_name?: string;
  template_version?: number;
  provider?: string;
  campaign_id?: string;
  messages: number | string;
}

/** The SQL of a query and its parameters; exported for the test that checks no value reaches the text. */
export function countStatement(
  query: DeliveryStatsQuery,
  limit: number,
): { sql: string; params: Record<string, unknown> } {
  const columns = query.groupBy.map((dimension) => COLUMN_OF[dimension]);
  const grouping = [...(query.bucket ? ["bucket_start"] : []), ...columns];
  const selected = [
    ...(query.bucket ? [`toUnixTimestamp(${BUCKET_START_OF[query.bucket]}) AS bucket_start`] : []),
    ...columns,
    "uniqExact(message_id) AS messages",
  ];
  const where = [
    "event_time >= fromUnixTimestamp64Milli({from:Int64}, 'UTC')",
    "event_time < fromUnixTimestamp64Milli({to:Int64}, 'UTC')",
  ];
  const params: Record<string, unknown> = { from: query.from.getTime(), to: query.to.getTime(), limit };
  for (const [filter, column] of FILTERS) {
    if (query[filter].length === 0) continue;
    where.push(`${column} IN {${filter}:Array(String)}`);
    params[filter] = query[filter];
  }
  const sql = [
    `SELECT ${selected.join(", ")}`,
    `FROM ${TABLE}`,
    `WHERE ${where.join(" AND ")}`,
    ...(grouping.length > 0 ? [`GROUP BY ${grouping.join(", ")}`] : []),
    // Without grouping keys the aggregate answers one row even when nothing matched.
    "HAVING messages > 0",
    ...(grouping.length > 0 ? [`ORDER BY ${grouping.join(", ")}`] : []),
    "LIMIT {limit:UInt32}",
  ].join("\n");
  return { sql, params };
}

function storedStatus(value: string): DeliveryStatus {
  // Only our writer fills the table, from the domain's own values.
  if (!STATUSES.has(value)) throw new Error(`notification_delivery_stats holds an unknown status "${value}"`);
  return value as DeliveryStatus;
}

function storedChannel(value: string): Channel {
  if (!CHANNEL_NAMES.has(value)) {
    throw new Error(`notification_delivery_stats holds an unknown channel "${value}"`);
  }
  return value as Channel;
}

function countOf(row: CountRow): DeliveryStatsCount {
  return {
    ...(row.bucket_start !== undefined ? { bucketStart: new Date(row.bucket_start * 1000) } : {}),
    ...(row.status !== undefined ? { status: storedStatus(row.status) } : {}),
    ...(row.channel !== undefined ? { channel: storedChannel(row.channel) } : {}),
    ...(row.template_name !== undefined ? { templateName: row.template_name } : {}),
    ...(row.template_version !== undefined ? { templateVersion: row.template_version } : {}),
    ...(row.provider !== undefined ? { provider: row.provider } : {}),
    ...(row.campaign_id !== undefined ? { campaignId: row.campaign_id } : {}),
    // UInt64 comes quoted in JSON from servers before 25.8, bare from later ones; a count of
    // messages stays far below 2^53 either way.
    messages: Number(row.messages),
  };
}

/**
 * Counts delivery statistics in notification_delivery_stats: distinct message ids per
 * bucket and group, so the rows a retried batch or a repeated report added twice count
 * once. The filters hit the table's sort key (channel, status, event_time).
 */
export class ClickHouseDeliveryStatsQueries implements DeliveryStatsQueries {
  constructor(private readonly client: ClickHouseClient) {}

  async count(query: DeliveryStatsQuery, limit: number): Promise<DeliveryStatsCount[]> {
    return (await statisticsRows<CountRow>(this.client, countStatement(query, limit))).map(countOf);
  }
}

/**
 * Runs a statistics read within the dashboards' time limit; ClickHouse too busy to take it
 * is SERVICE_UNAVAILABLE, anything else a fault of ours.
 */
export async function statisticsRows<Row>(
  client: ClickHouseClient,
  statement: { sql: string; params: Record<string, unknown> },
): Promise<Row[]> {
  try {
    const result = await client.query({
      query: statement.sql,
      query_params: statement.params,
      format: "JSONEachRow",
      clickhouse_settings: { max_execution_time: MAX_EXECUTION_SECONDS },
    });
    return await result.json<Row>();
  } catch (error) {
    if (error instanceof ClickHouseError && !BUSY_CODES.has(error.code)) throw error;
    throw new DomainError(ErrorCatalog.unavailable, "delivery statistics cannot be read right now");
  }
}
