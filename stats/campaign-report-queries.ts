import type { ClickHouseClient } from "@clickhouse/client";
import type {
  CampaignReportQueries,
  CampaignReportQuery,
  ReportPoint,
  VariantCounts,
} from "../core/campaign-report/index.ts";
import { UNSUBSCRIBES_TABLE } from "./campaign-unsubscribes.ts";
import { BUCKET_START_OF, statisticsRows, TABLE } from "./delivery-stats-queries.ts";

// A provider's report can come before our record of the send, or alone (no receipts from
// some providers): a later stage counts for the earlier ones.
const SENT = "status IN ('sent', 'delivered', 'opened', 'clicked')";
const DELIVERED = "status IN ('delivered', 'opened', 'clicked')";

// Only human opens and clicks become statuses (TrackingHits): a machine's never reaches this
// table, so distinct users with the status are distinct human readers. A click opened the
// message, whether or not its pixel loaded.
const VARIANTS_SQL = `SELECT campaign_variant AS variant,
  uniqExactIf(message_id, ${SENT}) AS sent,
  uniqExactIf(message_id, ${DELIVERED}) AS delivered,
  uniqExactIf(message_id, status = 'failed') AS failed,
  uniqExactIf(message_id, status = 'suppressed') AS suppressed,
  uniqExactIf(message_id, status = 'expired') AS expired,
  uniqExactIf(user_id, status IN ('opened', 'clicked')) AS unique_opens,
  uniqExactIf(user_id, status = 'clicked') AS unique_clicks
FROM ${TABLE}
WHERE campaign_id = {campaignId:String}
  AND event_time >= fromUnixTimestamp64Milli({from:Int64}, 'UTC')
  AND event_time < fromUnixTimestamp64Milli({to:Int64}, 'UTC')
GROUP BY variant
ORDER BY variant`;

// Users, each once per variant: a second click on the same link changes nothing.
const UNSUBSCRIBES_SQL = `SELECT campaign_variant AS variant, uniqExact(user_id) AS unsubscribes
FROM ${UNSUBSCRIBES_TABLE}
WHERE campaign_id = {campaignId:String}
  AND event_time >= fromUnixTimestamp64Milli({from:Int64}, 'UTC')
  AND event_time < fromUnixTimestamp64Milli({to:Int64}, 'UTC')
GROUP BY variant`;

// Each message counts in the bucket where it first reached each stage, with the totals' rules
// (a later stage reaches the earlier ones), so a series adds up to the totals. minIf of no
// row is the epoch, which no campaign's change is at.
function seriesSql(query: CampaignReportQuery): string {
  return `SELECT toUnixTimestamp(${BUCKET_START_OF[query.bucket]}) AS bucket_start, variant,
  countIf(stage = 'sent') AS sent,
  countIf(stage = 'delivered') AS delivered,
  countIf(stage = 'failed') AS failed,
  countIf(stage = 'opened') AS opened,
  countIf(stage = 'clicked') AS clicked
FROM (
  SELECT message_id, any(campaign_variant) AS variant,
    minIf(event_time, ${SENT}) AS sent_at,
    minIf(event_time, ${DELIVERED}) AS delivered_at,
    minIf(event_time, status = 'failed') AS failed_at,
    minIf(event_time, status IN ('opened', 'clicked')) AS opened_at,
    minIf(event_time, status = 'clicked') AS clicked_at
  FROM ${TABLE}
  WHERE campaign_id = {campaignId:String}
    AND event_time >= fromUnixTimestamp64Milli({from:Int64}, 'UTC')
    AND event_time < fromUnixTimestamp64Milli({to:Int64}, 'UTC')
    AND status IN ('sent', 'delivered', 'failed', 'opened', 'clicked')
  GROUP BY message_id
)
ARRAY JOIN
  ['sent', 'delivered', 'failed', 'opened', 'clicked'] AS stage,
  [sent_at, delivered_at, failed_at, opened_at, clicked_at] AS event_time
WHERE event_time > toDateTime64(0, 3, 'UTC')
GROUP BY bucket_start, variant
ORDER BY bucket_start, variant
LIMIT {limit:UInt32}`;
}

// UInt64 comes quoted in JSON from servers before 25.8, bare from later ones.
type Count = number | string;

interface VariantRow {
  variant: string;
  sent: Count;
  delivered: Count;
  failed: Count;
  suppressed: Count;
  expired: Count;
  unique_opens: Count;
  unique_clicks: Count;
}

interface PointRow {
  bucket_start: number;
  variant: string;
  sent: Count;
  delivered: Count;
  failed: Count;
  opened: Count;
  clicked: Count;
}

function paramsOf(query: Omit<CampaignReportQuery, "bucket">): Record<string, unknown> {
  return { campaignId: query.campaignId, from: query.from.getTime(), to: query.to.getTime() };
}

/**
 * A campaign's counts in notification_delivery_stats, read through its by_campaign
 * projection (ClickHouse migration 0003), sorted by campaign, so a report reads the
 * campaign's rows rather than every row of its months.
 */
export class ClickHouseCampaignReportQueries implements CampaignReportQueries {
  constructor(private readonly client: ClickHouseClient) {}

  async variants(query: Omit<CampaignReportQuery, "bucket">): Promise<VariantCounts[]> {
    const params = paramsOf(query);
    const [rows, unsubscribed] = await Promise.all([
      statisticsRows<VariantRow>(this.client, { sql: VARIANTS_SQL, params }),
      statisticsRows<{ variant: string; unsubscribes: Count }>(this.client, {
        sql: UNSUBSCRIBES_SQL,
        params,
      }),
    ]);
    const unsubscribes = new Map(unsubscribed.map((row) => [row.variant, Number(row.unsubscribes)]));
    return rows.map((row) => ({
      variant: row.variant,
      sent: Number(row.sent),
      delivered: Number(row.delivered),
      failed: Number(row.failed),
      suppressed: Number(row.suppressed),
      expired: Number(row.expired),
      uniqueOpens: Number(row.unique_opens),
      uniqueClicks: Number(row.unique_clicks),
      unsubscribes: unsubscribes.get(row.variant) ?? 0,
    }));
  }

  async series(query: CampaignReportQuery, limit: number): Promise<ReportPoint[]> {
    const rows = await statisticsRows<PointRow>(this.client, {
      sql: seriesSql(query),
      params: { ...paramsOf(query), limit },
    });
    return rows.map((row) => ({
      bucketStart: new Date(row.bucket_start * 1000),
      variant: row.variant,
      sent: Number(row.sent),
      delivered: Number(row.delivered),
      failed: Number(row.failed),
      opened: Number(row.opened),
      clicked: Number(row.clicked),
    }));
  }
}
