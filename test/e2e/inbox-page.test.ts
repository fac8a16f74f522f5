import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MikroORM } from "@mikro-orm/postgresql";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../support/chromium.ts";
import { AUTH_ENV, authHeaders, bearerToken } from "../support/credentials.ts";
import { createActiveTemplate, messagesOf, pipelineEnv, testOrm } from "../support/pipeline.ts";
import {
  eventually,
  freePort,
  type ServiceProcess,
  startServiceProcess,
} from "../support/service-process.ts";
import { REPO_ROOT } from "../support/services.ts";

// The gateway's inbox page in a real browser (Debian's Chromium, installed by scripts/tools):
// a user signs in with a pasted token, sees messages arrive live, marks them read, and finds
// the same inbox after a reload. Screenshots of each step are kept in test-results/inbox-page/.
const run = randomUUID().slice(0, 8);
const template = `inbox_page_${run}`;
const dir = mkdtempSync(join(tmpdir(), "inbox-page-"));
const SCREENSHOTS = join(REPO_ROOT, "test-results", "inbox-page");
const XSS_BODY = `<img src=x onerror="document.title='injected'">`;

let service: ServiceProcess;
let gatewayUrl: string;
let orm: MikroORM;
let browser: BrowserContext;
let page: Page;
const user = randomUUID();
const sent: string[] = [];
const pageErrors: string[] = [];
const policyViolations: string[] = [];
const requestedPaths: string[] = [];

/** Sends one in-app message to the user through the API; answers the request id. */
async function sendInApp(title: string, text: string): Promise<string> {
  const requestId = `req-${randomUUID()}`;
  const response = await fetch(`${service.httpUrl}/api/v1/notifications/send/direct`, {
    method: "POST",
    headers: { ...authHeaders("app-backend", ["service"]), "content-type": "application/json" },
    body: JSON.stringify({
      requestId,
      recipients: [{ userId: user }],
      templateName: template,
      languageCode: "en",
      payloadVariables: { title, text },
      deliveryOptions: { channels: ["in_app"], priority: "high" },
    }),
  });
  expect(response.status, await response.clone().text()).toBe(200);
  sent.push(requestId);
  return requestId;
}

async function screenshot(name: string): Promise<void> {
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  console.log(`screenshot: ${path}`);
}

const badge = () => page.locator("#badge").textContent();
const items = () => page.locator("#messages > li");
const statusOf = async (requestId: string) => (await messagesOf(orm, requestId))[0]?.status;

/** What the list shows, newest first: each message's seq, title, body and whether it is unread. */
const shown = () =>
  items().evaluateAll((elements) =>
    elements.map((element) => ({
      seq: element.getAttribute("data-seq"),
      title: element.querySelector(".title")?.textContent,
      body: element.querySelector(".body")?.textContent,
      unread: element.classList.contains("unread"),
    })),
  );

beforeAll(async () => {
  const gatewayPort = await freePort();
  gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  service = await startServiceProcess({
    role: "all",
    gatewayPort,
    env: { ...AUTH_ENV, ...pipelineEnv(join(dir, "sink.jsonl")), GATEWAY_ALLOWED_ORIGINS: gatewayUrl },
  });
  orm = testOrm();
  await createActiveTemplate(
    service.httpUrl,
    template,
    [{ language_code: "en", subject: "{{title}}", body: "{{text}}", body_html: "" }],
    "CHANNEL_IN_APP",
  );
  expect(
    await eventually(
      async () => service.logs.some((line) => line.message === "send pipeline consuming"),
      60_000,
    ),
  ).toBe(true);
  mkdirSync(SCREENSHOTS, { recursive: true });
  browser = await launchChromium(dir, { width: 900, height: 700 });
  page = browser.pages()[0] ?? (await browser.newPage());
  page.on("pageerror", (error) => pageErrors.push(error.message));
  page.on("console", (message) => {
    if (message.text().includes("Content Security Policy")) policyViolations.push(message.text());
  });
  page.on("request", (request) => requestedPaths.push(new URL(request.url()).pathname));
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await service?.stop();
  await orm?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("the inbox page", () => {
  it("is served by the gateway with a strict Content-Security-Policy, with its script and style", async () => {
    for (const path of ["/", "/index.html"]) {
      const response = await fetch(`${gatewayUrl}${path}`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
      const policy = response.headers.get("content-security-policy") ?? "";
      expect(policy).toContain("default-src 'self'");
      expect(policy).toContain("connect-src 'self' ws: wss:");
      expect(await response.text()).toContain('<script type="module" src="/inbox.js">');
    }
    expect((await fetch(`${gatewayUrl}/inbox.js`)).headers.get("content-type")).toMatch(/^text\/javascript/);
    expect((await fetch(`${gatewayUrl}/inbox.css`)).headers.get("content-type")).toMatch(/^text\/css/);
    expect((await fetch(`${gatewayUrl}/elsewhere.js`)).status).toBe(404);
    // The ops endpoints are still answered first.
    expect((await fetch(`${gatewayUrl}/healthz`)).status).toBe(200);
  });

  it("signs in with a pasted token kept out of the URL, and shows messages live with the unread badge", async () => {
    const response = await page.goto(`${gatewayUrl}/`);
    expect(response?.headers()["content-security-policy"]).toContain("default-src 'self'");
    await expect.poll(() => page.locator("#state").textContent()).toBe("Signed out");
    await screenshot("00-signed-out");

    // A token the gateway refuses signs the page out again, with the gateway's reason.
    await page.locator("#token").fill(bearerToken(user, ["user"], -120));
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.locator("#sign-in-error").waitFor();
    expect(await page.locator("#sign-in-error").textContent()).toBe(
      "The gateway refused the token: the token has expired.",
    );
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await screenshot("01-token-refused");

    const token = bearerToken(user, ["user"], 3600);
    await page.locator("#token").fill(token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.locator('#state[data-state="live"]').waitFor();
    expect(page.url()).toBe(`${gatewayUrl}/`);
    expect(await page.evaluate(() => Object.values(sessionStorage))).toEqual([token]);
    expect(await page.locator("#sign-in").isHidden()).toBe(true);
    expect(await page.locator("#empty").isVisible()).toBe(true);
    await screenshot("02-signed-in-empty");

    await sendInApp("Your order has shipped", "Order 1042 is on its way.");
    await sendInApp("A reply to your comment", XSS_BODY);
    await expect.poll(badge, { timeout: 15_000 }).toBe("2");
    await expect.poll(() => items().count()).toBe(2);
    expect(await shown()).toEqual([
      { seq: "2", title: "A reply to your comment", body: XSS_BODY, unread: true },
      { seq: "1", title: "Your order has shipped", body: "Order 1042 is on its way.", unread: true },
    ]);
    // The body is text: no element was made of it and nothing it names was loaded or run.
    expect(await page.locator("#messages img").count()).toBe(0);
    expect(requestedPaths).not.toContain("/x");
    expect(await page.title()).toBe("Inbox");
    await screenshot("03-two-unread");
  });

  it("acks what it shows (delivered) and marks one read (opened): the badge drops to 1", async () => {
    const [first, second] = sent as [string, string];
    expect(await eventually(async () => (await statusOf(second)) === "delivered", 10_000)).toBe(true);

    await page.locator('#messages > li[data-seq="1"]').getByRole("button", { name: "Mark as read" }).click();
    await expect.poll(badge).toBe("1");
    expect(await eventually(async () => (await statusOf(first)) === "opened", 10_000)).toBe(true);
    expect(await statusOf(second)).toBe("delivered");
    expect((await shown()).map(({ seq, unread }) => ({ seq, unread }))).toEqual([
      { seq: "2", unread: true },
      { seq: "1", unread: false },
    ]);
    await screenshot("04-one-read");
  });

  it("shows a message sent while it is open as it arrives", async () => {
    await sendInApp("Weekly summary", "3 new comments, 1 new follower.");
    await expect.poll(() => items().count(), { timeout: 15_000 }).toBe(3);
    await expect.poll(badge).toBe("2");
    expect((await shown())[0]).toEqual({
      seq: "3",
      title: "Weekly summary",
      body: "3 new comments, 1 new follower.",
      unread: true,
    });
    await screenshot("05-third-live");
  });

  it("is still signed in after a reload, with the same inbox and read states", async () => {
    await page.reload();
    await page.locator('#state[data-state="live"]').waitFor();
    expect(await page.locator("#sign-in").isHidden()).toBe(true);
    await expect.poll(() => items().count()).toBe(3);
    expect(await badge()).toBe("2");
    expect((await shown()).map(({ seq, unread }) => ({ seq, unread }))).toEqual([
      { seq: "3", unread: true },
      { seq: "2", unread: true },
      { seq: "1", unread: false },
    ]);
    await screenshot("06-after-reload");
  });

  it("marks all read, then signs out and forgets the token", async () => {
    await page.getByRole("button", { name: "Mark all read" }).click();
    await expect.poll(badge).toBe("0");
    for (const requestId of sent) {
      expect(await eventually(async () => (await statusOf(requestId)) === "opened", 10_000)).toBe(true);
    }
    expect((await shown()).every(({ unread }) => !unread)).toBe(true);
    await screenshot("07-all-read");

    await page.getByRole("button", { name: "Sign out" }).click();
    expect(await page.locator("#sign-in").isVisible()).toBe(true);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await page.reload();
    expect(await page.locator("#sign-in").isVisible()).toBe(true);

    expect(pageErrors).toEqual([]);
    expect(policyViolations).toEqual([]);
  });
});
