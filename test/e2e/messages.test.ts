import { randomBytes, randomUUID } from "node:crypto";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import type { MikroORM } from "@mikro-orm/postgresql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Role } from "../../core/caller.ts";
import type { NewMessage } from "../../core/sending/index.ts";
import { Channel } from "../../gen/platform/notification/v1/common_pb.ts";
import { MessageService, MessageStatus } from "../../gen/platform/notification/v1/message_service_pb.ts";
import { createOrm } from "../../server/infrastructure.ts";
import { createLogger } from "../../server/logger.ts";
import { PostgresUnitOfWork } from "../../storage/index.ts";
import { AUTH_ENV, authHeaders } from "../support/credentials.ts";
import { sharedCipher, testCipher } from "../support/recipient-cipher.ts";
import { type ServiceProcess, startServiceProcess } from "../support/service-process.ts";
import { localServices } from "../support/services.ts";

const API = "/api/v1/notifications";

// Every run seeds its own users, requests and addresses: the test database is shared.
const USER = randomUUID();
const OTHER_USER = randomUUID();
const PAGED_USER = randomUUID();
const RUN = randomBytes(4).toString("hex");
const REQUEST = `req-${RUN}-1`;
const CORRELATION = `corr-${RUN}`;
const EMAIL = `Ivan.Petrov.${RUN}@Example.com`;
const PHONE = `+7912${String(Number.parseInt(RUN, 16) % 10_000_000).padStart(7, "0")}`;
const TOKEN = `fcm_${RUN}_${"x".repeat(40)}`;
const CAMPAIGN = randomUUID();
const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 10, minute));

interface Seeded {
  email: string;
  sms: string;
  push: string;
  inApp: string;
  others: string;
}

type Answer = { status: number; body: Record<string, unknown> };

describe("MessageService: the message log over REST and Connect", () => {
  const keys = sharedCipher();
  const orm: MikroORM = createOrm({ url: localServices().databaseUrl, poolMax: 2 }, createLogger("silent"));
  const unitOfWork = new PostgresUnitOfWork(orm, keys.cipher);
  let service: ServiceProcess;
  let templateId: string;
  let templateName: string;
  let ids: Seeded;
  let pagedIds: string[];

  const headersOf = (who: Role | "owner" | "stranger"): Record<string, string> => {
    if (who === "owner") return authHeaders(USER, ["user"]);
    if (who === "stranger") return authHeaders(OTHER_USER, ["user"]);
    return authHeaders(`e2e-${who}`, [who]);
  };
  const rest = async (path: string, who: Parameters<typeof headersOf>[0] = "admin"): Promise<Answer> => {
    const response = await fetch(`${service.httpUrl}${API}${path}`, { headers: headersOf(who) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const list = async (query: Record<string, string>, who: Parameters<typeof headersOf>[0] = "admin") =>
    rest(`/messages?${new URLSearchParams(query)}`, who);
  const idsOf = (answer: Answer) => (answer.body.messages as { id: string }[]).map((message) => message.id);
  const client = () =>
    createClient(MessageService, createConnectTransport({ baseUrl: service.httpUrl, httpVersion: "1.1" }));
  const codeOf = async (call: Promise<unknown>) => {
    try {
      await call;
      return "ok";
    } catch (error) {
      return Code[ConnectError.from(error).code];
    }
  };

  const message = (overrides: Partial<NewMessage>): NewMessage => ({
    messageId: randomUUID(),
    requestId: REQUEST,
    userId: USER,
    channel: "email",
    recipient: EMAIL,
    priority: "normal",
    status: "queued",
    requestedAt: at(0),
    ...overrides,
  });

  beforeAll(async () => {
    service = await startServiceProcess({ role: "api", env: { ...AUTH_ENV, ...keys.env } });
    templateName = `message_log_${RUN}`;
    const created = await fetch(`${service.httpUrl}${API}/templates`, {
      method: "POST",
      headers: { ...authHeaders(), "content-type": "application/json" },
      body: JSON.stringify({
        name: templateName,
        channel_type: "CHANNEL_EMAIL",
        default_language_code: "ru",
      }),
    });
    expect(created.status, service.output()).toBe(200);
    templateId = ((await created.json()) as { id: string }).id;

    const email = message({
      templateId,
      templateVersion: 2,
      campaignId: CAMPAIGN,
      correlationId: CORRELATION,
      priority: "high",
    });
    const sms = message({
      channel: "sms",
      recipient: PHONE,
      status: "failed",
      statusDetails: "invalid_number",
      requestedAt: at(1),
    });
    const push = message({
      channel: "push_fcm",
      recipient: TOKEN,
      requestId: `req-${RUN}-2`,
      requestedAt: at(2),
    });
    const inApp = message({
      channel: "in_app",
      recipient: "",
      status: "suppressed",
      statusDetails: "opted_out",
      requestedAt: at(3),
    });
    const others = message({
      userId: OTHER_USER,
      requestId: `req-${RUN}-3`,
      recipient: `someone.${RUN}@example.org`,
    });
    // Seven for paging, two of them at the same time: the id orders those.
    const paged = [0, 1, 2, 2, 3, 4, 5].map((minute, index) =>
      message({
        userId: PAGED_USER,
        requestId: `req-${RUN}-paged`,
        recipient: `paged.${index}.${RUN}@example.com`,
        requestedAt: at(minute),
      }),
    );
    await unitOfWork.run((tx) => tx.messages.append([email, sms, push, inApp, others, ...paged]));
    await unitOfWork.run((tx) =>
      tx.messages.record([
        { messageId: email.messageId, status: "sent", at: at(5), provider: "smtp" },
        { messageId: email.messageId, status: "delivered", at: at(6) },
      ]),
    );
    ids = {
      email: email.messageId,
      sms: sms.messageId,
      push: push.messageId,
      inApp: inApp.messageId,
      others: others.messageId,
    };
    pagedIds = paged
      .map((each) => ({ id: each.messageId, time: each.requestedAt.getTime() }))
      .sort((a, b) => b.time - a.time || (a.id < b.id ? 1 : -1))
      .map((each) => each.id);
  });

  afterAll(async () => {
    await service?.stop();
    await orm.close(true);
  });

  it("gets a message with its template, statuses and times", async () => {
    const answer = await rest(`/messages/${ids.email}`);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body).toMatchObject({
      id: ids.email,
      request_id: REQUEST,
      correlation_id: CORRELATION,
      user_id: USER,
      template_id: templateId,
      template_name: templateName,
      template_version: 2,
      campaign_id: CAMPAIGN,
      channel: "CHANNEL_EMAIL",
      recipient: EMAIL,
      priority: "MESSAGE_PRIORITY_HIGH",
      status: "MESSAGE_STATUS_DELIVERED",
      provider_name: "smtp",
      attempts: 1,
      requested_time: "2026-01-01T10:00:00Z",
      sent_time: "2026-01-01T10:05:00Z",
      delivered_time: "2026-01-01T10:06:00Z",
    });
    expect(answer.body.update_time).toEqual(expect.any(String));
    expect(answer.body.opened_time).toBeUndefined();

    const failed = await client().getMessage({ messageId: ids.sms }, { headers: headersOf("admin") });
    expect(failed).toMatchObject({
      channel: Channel.SMS,
      recipient: PHONE,
      status: MessageStatus.FAILED,
      statusDetails: "invalid_number",
      lastError: "invalid_number",
    });
  });

  it("answers NOT_FOUND for an unknown id, on both surfaces", async () => {
    const unknown = randomUUID();
    const answer = await rest(`/messages/${unknown}`);
    expect(answer.status).toBe(404);
    expect(answer.body).toMatchObject({ errors: [{ code: "NOT_FOUND" }] });
    expect(await codeOf(client().getMessage({ messageId: unknown }, { headers: headersOf("admin") }))).toBe(
      "NotFound",
    );
  });

  it("filters by user, request, correlation, status, channel, time and recipient, newest first", async () => {
    expect(idsOf(await list({ user_id: USER }))).toEqual([ids.inApp, ids.push, ids.sms, ids.email]);
    expect(idsOf(await list({ request_id: REQUEST }))).toEqual([ids.inApp, ids.sms, ids.email]);
    expect(idsOf(await list({ correlation_id: CORRELATION }))).toEqual([ids.email]);
    expect(idsOf(await list({ user_id: USER, status: "MESSAGE_STATUS_FAILED" }))).toEqual([ids.sms]);
    expect(idsOf(await list({ user_id: USER, channel: "CHANNEL_PUSH_FCM" }))).toEqual([ids.push]);
    expect(
      idsOf(
        await list({
          user_id: USER,
          requested_from: "2026-01-01T10:01:00Z",
          requested_to: "2026-01-01T10:03:00Z",
        }),
      ),
    ).toEqual([ids.push, ids.sms]);
    // An email address in any case; a phone and a token exactly.
    expect(idsOf(await list({ recipient: EMAIL.toUpperCase() }))).toEqual([ids.email]);
    expect(idsOf(await list({ recipient: PHONE }))).toEqual([ids.sms]);
    expect(idsOf(await list({ recipient: TOKEN }))).toEqual([ids.push]);
    expect(idsOf(await list({ recipient: TOKEN.toUpperCase() }))).toEqual([]);
    // Filters combine.
    expect(
      idsOf(await list({ request_id: REQUEST, channel: "CHANNEL_EMAIL", status: "MESSAGE_STATUS_SENT" })),
    ).toEqual([]);

    const answer = await client().listMessages(
      { correlationId: CORRELATION, channel: Channel.EMAIL },
      { headers: headersOf("support") },
    );
    expect(answer.messages.map((each) => each.id)).toEqual([ids.email]);
  });

  it("pages through a list with no message twice and none left out", async () => {
    const seen: string[] = [];
    let token = "";
    let pages = 0;
    do {
      const answer = await list({
        user_id: PAGED_USER,
        page_size: "3",
        ...(token ? { page_token: token } : {}),
      });
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      seen.push(...idsOf(answer));
      token = String(answer.body.next_page_token ?? "");
      pages += 1;
    } while (token && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(pagedIds);

    // The same over Connect, where a page token goes on with the same filters.
    const first = await client().listMessages(
      { userId: PAGED_USER, pageSize: 4 },
      { headers: headersOf("admin") },
    );
    const second = await client().listMessages(
      { userId: PAGED_USER, pageSize: 4, pageToken: first.nextPageToken },
      { headers: headersOf("admin") },
    );
    expect([...first.messages, ...second.messages].map((each) => each.id)).toEqual(pagedIds);
    expect(second.nextPageToken).toBe("");
  });

  it("refuses a page token it did not give with INVALID_ARGUMENT", async () => {
    for (const token of ["not-a-token", Buffer.from('{"us":"1","id":"x"}').toString("base64url")]) {
      const answer = await list({ user_id: USER, page_token: token });
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ errors: [{ code: "VALIDATION_ERROR" }] });
      expect(
        await codeOf(
          client().listMessages({ userId: USER, pageToken: token }, { headers: headersOf("admin") }),
        ),
      ).toBe("InvalidArgument");
    }
  });

  it("shows the recipient in full to admins and the user, masked to support and services", async () => {
    const recipients = async (who: Parameters<typeof headersOf>[0]) => {
      const answer = await list({ user_id: USER }, who);
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      return (answer.body.messages as { recipient?: string }[]).map((each) => each.recipient ?? "");
    };
    const clear = ["", TOKEN, PHONE, EMAIL];
    expect(await recipients("admin")).toEqual(clear);
    expect(await recipients("owner")).toEqual(clear);
    const masked = ["", `fcm_…${"x".repeat(4)}`, `+7…${PHONE.slice(-2)}`, "I…@Example.com"];
    expect(await recipients("support")).toEqual(masked);
    expect(await recipients("service")).toEqual(masked);
    const one = await client().getMessage({ messageId: ids.email }, { headers: headersOf("support") });
    expect(one.recipient).toBe("I…@Example.com");
  });

  it("answers a message whose recipient it cannot open, with the recipient empty", async () => {
    // Sealed with a key this process does not have, as after a key was dropped too early.
    const unkeyed = message({ userId: randomUUID(), requestId: `req-${RUN}-unkeyed` });
    await new PostgresUnitOfWork(orm, testCipher()).run((tx) => tx.messages.append([unkeyed]));
    const answer = await rest(`/messages/${unkeyed.messageId}`);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body).toMatchObject({
      id: unkeyed.messageId,
      recipient: "",
      status: "MESSAGE_STATUS_QUEUED",
    });
    expect(idsOf(await list({ request_id: unkeyed.requestId }))).toEqual([unkeyed.messageId]);
  });

  it("lets a user read only their own messages, on REST and Connect", async () => {
    expect(idsOf(await list({ user_id: USER }, "owner"))).toEqual([ids.inApp, ids.push, ids.sms, ids.email]);
    expect((await rest(`/messages/${ids.email}`, "owner")).status).toBe(200);

    // Another user's list is refused, and so is a list that names no user.
    expect((await list({ user_id: USER }, "stranger")).status).toBe(403);
    expect((await list({ request_id: REQUEST }, "stranger")).status).toBe(403);
    expect(await codeOf(client().listMessages({ userId: USER }, { headers: headersOf("stranger") }))).toBe(
      "PermissionDenied",
    );
    expect(await codeOf(client().listMessages({}, { headers: headersOf("owner") }))).toBe("PermissionDenied");
    // Another user's message is not found, as one that does not exist: ids cannot be probed.
    const foreign = await rest(`/messages/${ids.others}`, "owner");
    expect(foreign.status).toBe(404);
    expect(foreign.body).toMatchObject({ errors: [{ code: "NOT_FOUND" }] });
    expect(
      await codeOf(client().getMessage({ messageId: ids.email }, { headers: headersOf("stranger") })),
    ).toBe("NotFound");
    // A marketer and anonymous callers read nothing of the log.
    expect((await list({ user_id: USER }, "marketer")).status).toBe(403);
    expect((await fetch(`${service.httpUrl}${API}/messages/${ids.email}`)).status).toBe(401);
  });
});
