// How long a campaign report's queries take over millions of status changes (locally: the
// chdb front, one engine, queries one at a time): p50 and p99 of the variants and the series
// of one campaign, through ClickHouseCampaignReportQueries as the service runs them, read
// through the by_campaign projection and, for comparison, without it.
// `node bench/campaign-report-queries.ts` (ROWS=… for more, RUNS=… per question).
import { randomUUID } from "node:crypto";
import { ClickHouseLogLevel, createClient } from "@clickhouse/client";
import { clickhouseMigrations } from "../migrations/index.ts";
import { createLogger } from "../server/logger.ts";
import { ClickHouseCampaignReportQueries, migrateClickHouse } from "../stats/index.ts";

const url = process.env.CLICKHOUSE_URL ?? "http://127.0.0.1:58123";
const rows = Number(process.env.ROWS ?? 2_000_000);
const runs = Number(process.env.RUNS ?? 20);
const database = `bench_campaign_report_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
const log = { level: ClickHouseLogLevel.OFF };
const DAY = 86_400_000;
const base = Date.UTC(2026, 10, 1);
const span = 30 * DAY;

const admin = createClient({ url, log });
await admin.command({ query: `CREATE DATABASE ${database}` });
try {
  const timed = async (settings: Record<string, number>) => {
    const client = createClient({
      url,
      database,
      log,
      request_timeout: 120_000,
      clickhouse_settings: settings,
    });
    const queries = new ClickHouseCampaignReportQueries(client);
    const whole = { campaignId: "cmp-7", from: new Date(base), to: new Date(base + span) };
    const figures: Record<string, string> = {};
    for (const [name, run] of [
      ["variants", () => queries.variants(whole)],
      ["series by hour", () => queries.series({ ...whole, bucket: "hour" }, 10_000)],
    ] as const) {
      const times: number[] = [];
      for (let i = 0; i < runs; i++) {
        const started = performance.now();
        await run();
        times.push(performance.now() - started);
      }
      times.sort((a, b) => a - b);
      const at = (q: number) =>
        (times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0).toFixed(1);
      figures[name] = `p50 ${at(0.5)} ms, p99 ${at(0.99)} ms`;
    }
    await client.close();
    return figures;
  };
  const client = createClient({ url, database, log, request_timeout: 300_000 });
  await migrateClickHouse(client, clickhouseMigrations, createLogger("silent"));
  // Four status changes per message over 30 days; one message in ten in one of 50 campaigns,
  // each with variants A and B, the rest transactional.
  const filled = performance.now();
  await client.command({
    query: `INSERT INTO notification_delivery_stats
      (event_time, message_id, request_id, user_id, template_name, template_version, language,
       campaign_id, campaign_variant, channel, provider, status, latency_ms)
    SELECT
      fromUnixTimestamp64Milli(toInt64({base:Int64} + number * {step:Int64}), 'UTC'),
      toUUID(concat('00000000-0000-4000-8000-', leftPad(toString(intDiv(number, 4)), 12, '0'))),
      toString(intDiv(number, 4)),
      toString(intDiv(number, 4) % 50000),
      concat('template_', toString(intDiv(number, 4) % 20)),
      1, 'ru',
      if(intDiv(number, 4) % 10 = 0, concat('cmp-', toString(intDiv(number, 40) % 50)), ''),
      if(intDiv(number, 4) % 10 = 0, ['A', 'B'][intDiv(number, 40) % 2 + 1], ''),
      ['email', 'sms', 'push_fcm', 'in_app'][intDiv(number, 4) % 4 + 1],
      if(number % 4 = 0, '', 'provider'),
      ['queued', 'sent', 'delivered', 'opened'][number % 4 + 1],
      number % 900
    FROM numbers({rows:UInt64})`,
    query_params: { base, step: Math.floor(span / rows), rows },
  });
  const fillSeconds = (performance.now() - filled) / 1000;
  await client.command({ query: "OPTIMIZE TABLE notification_delivery_stats FINAL" });
  await client.close();
  console.log(`${rows} status changes written in ${fillSeconds.toFixed(1)} s`);
  console.log("with the by_campaign projection:", await timed({}));
  console.log("without it:", await timed({ optimize_use_projections: 0 }));
} finally {
  await admin.command({ query: `DROP DATABASE IF EXISTS ${database}` });
  await admin.close();
}
