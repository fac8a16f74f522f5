import { randomUUID } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../support/chromium.ts";
import { AUTH_ENV, authHeaders, bearerToken } from "../support/credentials.ts";
import { createActiveTemplate, pipelineEnv } from "../support/pipeline.ts";
import { eventually, type ServiceProcess, startServiceProcess } from "../support/service-process.ts";
import { REPO_ROOT } from "../support/services.ts";

// A campaign's report against the built service: a small in-app campaign without variants
// runs to the users' inboxes, one member opted out, READERS of them read it; its report is
// read over Connect and REST with the campaign roles, its stats_summary catches up from
// ClickHouse, and the report page shows the same figures in headless Chromium (a screenshot
// in test-results/campaign-report/, the README's copy in server/campaigns/report-page.png).
// A second campaign with variants A and B is reported per variant.
const API = "/api/v1/notifications";
const run = randomUUID().slice(0, 8);
const MARKETER = randomUUID();
const AUDIENCE = 40;
const READERS = 10;
const dir = mkdtempSync(join(tmpdir(), "campaign-report-"));
const SCREENSHOTS = join(REPO_ROOT, "test-results", "campaign-report");

let service: ServiceProcess;
let browser: BrowserContext;
let page: Page;
let campaignId = "";
let templateId = "";
const pageErrors: string[] = [];
const policyViolations: string[] = [];

type Json = Record<string, unknown>;

async function rest(
  method: string,
  path: string,
  body?: unknown,
  headers = authHeaders(MARKETER, ["marketer"]),
) {
  const response = await fetch(`${service.httpUrl}${API}${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as Json };
}

async function call(method: string, path: string, body?: unknown): Promise<Json> {
  const { status, json } = await rest(method, path, body);
  if (status !== 200) throw new Error(`${method} ${path}: ${status} ${JSON.stringify(json)}`);
  return json;
}

/** GetCampaignReport over Connect's JSON. */
async function connectReport(id: string, roles: Parameters<typeof authHeaders>[1] = ["support"]) {
  const response = await fetch(
    `${service.httpUrl}/platform.notification.v1.CampaignReportService/GetCampaignReport`,
    {
      method: "POST",
      headers: { ...authHeaders(MARKETER, roles), "content-type": "application/json" },
      body: JSON.stringify({ campaignId: id }),
    },
  );
  return { status: response.status, json: (await response.json()) as Json };
}

const totalsOf = (report: Json) => report.totals as Record<string, string | number | undefined>;

beforeAll(async () => {
  service = await startServiceProcess({
    role: "all",
    env: {
      ...AUTH_ENV,
      ...pipelineEnv(join(dir, "sink.jsonl")),
      CAMPAIGN_POLL_MS: "100",
    },
  });
  expect(
    await eventually(
      async () => service.logs.some((line) => line.message === "send pipeline consuming"),
      60_000,
    ),
    service.output(),
  ).toBe(true);
  templateId = await createActiveTemplate(
    service.httpUrl,
    `campaign_report_${run}`,
    [{ language_code: "ru", subject: "Распродажа", body: "Скидки до 50%", body_html: "" }],
    "CHANNEL_IN_APP",
  );
  const users = Array.from({ length: AUDIENCE }, () => randomUUID());
  const optedOut = await fetch(`${service.httpUrl}${API}/preferences/users/${users[0]}`, {
    method: "PUT",
    headers: { ...authHeaders(), "content-type": "application/json", "if-match": '"0"' },
    body: JSON.stringify({ global_unsubscribe: true }),
  });
  expect(optedOut.status, await optedOut.clone().text()).toBe(200);
  const segment = await call("POST", "/segments", { name: `Отчёт ${run}` });
  const uploaded = await fetch(`${service.httpUrl}${API}/segments/${String(segment.id)}/members`, {
    method: "POST",
    headers: { ...authHeaders(MARKETER, ["marketer"]), "content-type": "text/csv" },
    body: `user_id\n${users.join("\n")}\n`,
  });
  expect(uploaded.status, await uploaded.clone().text()).toBe(200);
  const created = await call("POST", "/campaigns", {
    name: `Отчёт ${run}`,
    target_segment_id: `upload:${String(segment.id)}`,
    template_id: templateId,
  });
  campaignId = String(created.id);
  await call("POST", `/campaigns/${campaignId}:start`, {});
  expect(
    await eventually(
      async () => (await call("GET", `/campaigns/${campaignId}`)).status === "CAMPAIGN_STATUS_COMPLETED",
      60_000,
    ),
  ).toBe(true);
  // Every member's outcome counted in ClickHouse: sent or failed, and the one suppressed.
  // Readers read their message in the inbox (their first, seq 1): an open, as the inbox counts it.
  for (const reader of users.slice(1, 1 + READERS)) {
    expect(
      await eventually(async () => {
        const read = await rest(
          "POST",
          `/inbox/users/${reader}/messages:markRead`,
          { seqs: [1] },
          authHeaders(reader, ["user"]),
        );
        return read.status === 200;
      }, 20_000),
    ).toBe(true);
  }
  let counted: Json = {};
  expect(
    await eventually(async () => {
      counted = totalsOf(await call("GET", `/campaigns/${campaignId}/report`));
      return (
        Number(counted.sent) + Number(counted.failed) + Number(counted.suppressed) === AUDIENCE &&
        Number(counted.unique_opens) === READERS
      );
    }, 30_000),
    JSON.stringify(counted),
  ).toBe(true);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await service?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("the campaign report", () => {
  it("counts the campaign's messages over REST and Connect alike, with the audience and the rates", async () => {
    const report = await call("GET", `/campaigns/${campaignId}/report`);
    const totals = totalsOf(report);
    expect(Number(totals.audience)).toBe(AUDIENCE);
    expect(Number(totals.suppressed)).toBe(1);
    expect(Number(totals.sent)).toBeGreaterThan(0);
    // Read is opened, which delivered it; nobody acknowledged over the gateway.
    expect(Number(totals.delivered)).toBe(READERS);
    expect(Number(totals.unique_opens)).toBe(READERS);
    expect(totals.delivery_rate).toBeCloseTo(READERS / Number(totals.sent));
    expect(totals.open_rate).toBe(1);
    // The one variant of a campaign without variants is the whole campaign, its audience not its own.
    const { audience: _, ...counted } = totals;
    expect(report.variants).toEqual([{ variant: "", figures: counted }]);
    expect(report.bucket).toBe("TIME_BUCKET_MINUTE");
    const series = report.series as Json[];
    const sentInSeries = series.reduce((sum, point) => sum + Number(point.sent), 0);
    const failedInSeries = series.reduce((sum, point) => sum + Number(point.failed), 0);
    expect([sentInSeries, failedInSeries]).toEqual([Number(totals.sent), Number(totals.failed)]);

    const connect = await connectReport(campaignId);
    expect(connect.status).toBe(200);
    // Connect's JSON leaves out zeros, which REST writes.
    const connected = totalsOf(connect.json);
    expect(connected).toMatchObject({
      audience: String(AUDIENCE),
      sent: String(totals.sent),
      suppressed: "1",
    });
    expect(connected.failed ?? "0").toBe(totals.failed);
    const hourly = await call("GET", `/campaigns/${campaignId}/report?bucket=TIME_BUCKET_HOUR`);
    expect(hourly.bucket).toBe("TIME_BUCKET_HOUR");
  });

  it("reports each A/B variant of a campaign with variants, their sum being the campaign's", async () => {
    const members = Array.from({ length: 30 }, () => randomUUID());
    const segment = await call("POST", "/segments", { name: `Отчёт A/B ${run}` });
    const uploaded = await fetch(`${service.httpUrl}${API}/segments/${String(segment.id)}/members`, {
      method: "POST",
      headers: { ...authHeaders(MARKETER, ["marketer"]), "content-type": "text/csv" },
      body: `user_id\n${members.join("\n")}\n`,
    });
    expect(uploaded.status).toBe(200);
    const created = await call("POST", "/campaigns", {
      name: `Отчёт A/B ${run}`,
      target_segment_id: `upload:${String(segment.id)}`,
      template_id: templateId,
      variants: [
        { template_id: templateId, share_percent: 50 },
        { template_id: templateId, share_percent: 50 },
      ],
    });
    const id = String(created.id);
    await call("POST", `/campaigns/${id}:start`, {});
    let report: Json = {};
    expect(
      await eventually(async () => {
        report = await call("GET", `/campaigns/${id}/report`);
        return Number(totalsOf(report).sent) === members.length;
      }, 60_000),
      JSON.stringify(report),
    ).toBe(true);
    const variants = report.variants as { variant: string; figures: Record<string, string> }[];
    expect(variants.map((row) => row.variant)).toEqual(["A", "B"]);
    expect(variants.reduce((sum, row) => sum + Number(row.figures.sent), 0)).toBe(members.length);
    for (const row of variants) expect(Number(row.figures.sent)).toBeGreaterThan(0);
    const series = report.series as Json[];
    expect(new Set(series.map((point) => point.variant))).toEqual(new Set(["A", "B"]));
  });

  it("is read by admins, marketers and support; a user or a service is refused", async () => {
    for (const role of ["admin", "marketer", "support"] as const) {
      expect((await connectReport(campaignId, [role])).status).toBe(200);
    }
    const refused = await rest(
      "GET",
      `/campaigns/${campaignId}/report`,
      undefined,
      authHeaders(randomUUID(), ["user"]),
    );
    expect(refused.status).toBe(403);
    expect((await connectReport(campaignId, ["service"])).json).toMatchObject({ code: "permission_denied" });
    expect((await rest("GET", `/campaigns/${campaignId}/report`, undefined, {})).status).toBe(401);
  });

  it("answers NOT_FOUND for an unknown campaign and INVALID_ARGUMENT for a malformed id", async () => {
    const unknown = await rest("GET", `/campaigns/${randomUUID()}/report`);
    expect(unknown.status).toBe(404);
    expect((unknown.json.errors as Json[])[0]).toMatchObject({ code: "NOT_FOUND" });
    const malformed = await rest("GET", "/campaigns/not-a-uuid/report");
    expect(malformed.status).toBe(400);
    expect((malformed.json.errors as Json[])[0]).toMatchObject({ code: "VALIDATION_ERROR" });
    expect((await connectReport("not-a-uuid")).json).toMatchObject({ code: "invalid_argument" });
    const tooFine = await rest("GET", `/campaigns/${campaignId}/report?bucket=TIME_BUCKET_UNKNOWN`);
    expect(tooFine.status).toBe(400);
  });

  it("keeps the campaign's stats_summary current from ClickHouse", async () => {
    const report = await call("GET", `/campaigns/${campaignId}/report`);
    expect(
      await eventually(async () => {
        const summary = (await call("GET", `/campaigns/${campaignId}`)).stats_summary as Json | undefined;
        return (
          summary?.delivered === String(totalsOf(report).delivered) && summary?.opened === String(READERS)
        );
      }, 20_000),
    ).toBe(true);
  });

  it("shows the same figures on the report page, with its funnel and timeline, under a strict policy", async () => {
    const served = await fetch(`${service.httpUrl}/campaign-report/${campaignId}`);
    expect(served.status).toBe(200);
    expect(served.headers.get("content-security-policy")).toContain("default-src 'self'");
    expect((await fetch(`${service.httpUrl}/campaign-report/elsewhere.js`)).status).toBe(404);

    mkdirSync(SCREENSHOTS, { recursive: true });
    browser = await launchChromium(dir, { width: 1100, height: 900 });
    page = browser.pages()[0] ?? (await browser.newPage());
    page.on("pageerror", (error) => pageErrors.push(error.message));
    page.on("console", (message) => {
      if (message.text().includes("Content Security Policy")) policyViolations.push(message.text());
    });
    await page.goto(`${service.httpUrl}/campaign-report/${campaignId}`);
    await expect.poll(() => page.locator("#state").textContent()).toBe("Нет входа");

    // A user's token is refused with the service's reason, and nothing is shown.
    await page.locator("#token").fill(bearerToken(randomUUID(), ["user"]));
    await page.getByRole("button", { name: "Показать отчёт" }).click();
    await page.locator("#error").waitFor();
    expect(await page.locator("#error").textContent()).toMatch(/^Сервис отказал \(403\)/);
    expect(await page.locator("#report").isHidden()).toBe(true);

    await page.locator("#token").fill(bearerToken(MARKETER, ["marketer"]));
    await page.getByRole("button", { name: "Показать отчёт" }).click();
    await page.locator("#report").waitFor();
    const rpc = totalsOf((await connectReport(campaignId)).json);
    const shown = async (figure: string) => page.locator(`[data-figure="${figure}"]`).textContent();
    expect(await shown("audience")).toBe(String(rpc.audience));
    for (const figure of ["sent", "delivered", "failed", "suppressed", "expired", "unsubscribes"]) {
      expect(await shown(figure), figure).toBe(String(rpc[figure] ?? "0"));
    }
    expect(await shown("unique_opens")).toBe(String(rpc.uniqueOpens ?? "0"));
    expect(await shown("unique_clicks")).toBe(String(rpc.uniqueClicks ?? "0"));
    expect(await page.locator('[data-funnel="0"]').textContent()).toBe(`${rpc.sent} (100.0%)`);
    expect(await page.locator("#timeline polyline").count()).toBeGreaterThan(0);
    expect(await page.locator('#variants tr[data-variant=""] td').nth(1).textContent()).toBe(
      String(rpc.sent),
    );
    // The token stays in the tab, never in the address.
    expect(page.url()).not.toContain("ey");
    const path = join(SCREENSHOTS, "report.png");
    await page.screenshot({ path, fullPage: true });
    console.log(`screenshot: ${path}`);
    if (process.env.UPDATE_README_SCREENSHOT === "1") {
      copyFileSync(path, join(REPO_ROOT, "server", "campaigns", "report-page.png"));
    }
    expect(pageErrors).toEqual([]);
    expect(policyViolations).toEqual([]);
  });
});
