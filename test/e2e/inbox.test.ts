import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type JsonObject, toJson } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Role } from "../../core/caller.ts";
import {
  InboxFilter,
  InboxService,
  ListInboxResponseSchema,
} from "../../gen/platform/notification/v1/inbox_service_pb.ts";
import { AUTH_ENV, authHeaders, authInterceptor } from "../support/credentials.ts";
import { createActiveTemplate, pipelineEnv } from "../support/pipeline.ts";
import { eventually, type ServiceProcess, startServiceProcess } from "../support/service-process.ts";
import { JSON_OPTIONS, transportsOf } from "../support/surfaces.ts";

// InboxService on the built service, running every role so that in-app sends really reach the
// inbox: messages sent through SendService, then read, unread, archived by their user over REST
// and listed over Connect, gRPC and gRPC-Web.
const API = "/api/v1/notifications";
const run = randomUUID().slice(0, 8);
const TEMPLATE = `inbox_${run}`;
const USER = randomUUID();
const OTHER_USER = randomUUID();
const SENT = 5;

interface InboxItem {
  seq: string;
  message_id: string;
  notification_type: string;
  title: string;
  body: string;
  create_time: string;
  read_time?: string;
  archive_time?: string;
}
interface Answer {
  status: number;
  body: JsonObject & {
    messages?: InboxItem[];
    next_page_token?: string;
    errors?: { code: string; detail: string; source?: { pointer?: string; parameter?: string } }[];
  };
}

type Who = "owner" | "stranger" | "anonymous" | Role;

let service: ServiceProcess;
/** The message ids of USER's inbox by seq, as the first list answered them. */
const idOfSeq = new Map<number, string>();

function headersOf(who: Who): Record<string, string> {
  if (who === "anonymous") return {};
  if (who === "owner") return authHeaders(USER, ["user"]);
  if (who === "stranger") return authHeaders(OTHER_USER, ["user"]);
  return authHeaders(`e2e-${who}`, [who]);
}

async function rest(method: string, path: string, who: Who = "owner", body?: JsonObject): Promise<Answer> {
  const response = await fetch(`${service.httpUrl}${API}${path}`, {
    method,
    headers: { ...headersOf(who), ...(body ? { "content-type": "application/json" } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as Answer["body"] };
}

const inbox = (userId: string = USER) => `/inbox/users/${userId}`;
const list = (query: Record<string, string> = {}, who: Who = "owner", userId: string = USER) =>
  rest("GET", `${inbox(userId)}/messages?${new URLSearchParams(query)}`, who);
const unreadCount = (who: Who = "owner") => rest("GET", `${inbox()}/unread-count`, who);
const change = (
  verb: "markRead" | "markUnread" | "markAllRead" | "archive",
  seqs?: (number | string)[],
  who: Who = "owner",
) => rest("POST", `${inbox()}/messages:${verb}`, who, seqs ? { seqs } : {});
const seqsOf = (answer: Answer) => (answer.body.messages ?? []).map((message) => Number(message.seq));
const statusOf = async (messageId: string) => (await rest("GET", `/messages/${messageId}`, "admin")).body;

async function sendInApp(userId: string, orderId: string): Promise<string> {
  const response = await fetch(`${service.httpUrl}${API}/send/direct`, {
    method: "POST",
    headers: { ...authHeaders("order-service", ["service"]), "content-type": "application/json" },
    body: JSON.stringify({
      requestId: `req-${randomUUID()}`,
      recipients: [{ userId }],
      templateName: TEMPLATE,
      languageCode: "ru",
      payloadVariables: { orderId },
      deliveryOptions: { channels: ["in_app"] },
    }),
  });
  const answer = (await response.json()) as { outcome: string; messages: { message_id: string }[] };
  expect([response.status, answer.outcome], JSON.stringify(answer)).toEqual([200, "accepted"]);
  const [message] = answer.messages;
  if (!message) throw new Error(`no message for ${orderId}: ${JSON.stringify(answer)}`);
  return message.message_id;
}

beforeAll(async () => {
  const sinkFile = join(mkdtempSync(join(tmpdir(), "inbox-")), "sink.jsonl");
  service = await startServiceProcess({ role: "all", env: { ...AUTH_ENV, ...pipelineEnv(sinkFile) } });
  await createActiveTemplate(
    service.httpUrl,
    TEMPLATE,
    [
      {
        language_code: "ru",
        subject: "Заказ {{orderId}}",
        body: "Заказ {{orderId}} отправлен",
        body_html: "",
      },
    ],
    "CHANNEL_IN_APP",
  );
  const ids: string[] = [];
  for (let index = 1; index <= SENT; index++) ids.push(await sendInApp(USER, `ORD-${index}`));
  ids.push(await sendInApp(OTHER_USER, "ORD-other"));
  // Read only once the message log says sent: `opened` may follow only a message that left us.
  const arrived = await eventually(async () => {
    if ((await unreadCount()).body.unread !== SENT) return false;
    for (const id of ids) if ((await statusOf(id)).status !== "MESSAGE_STATUS_SENT") return false;
    return true;
  }, 30_000);
  expect(arrived, service.output().slice(-3000)).toBe(true);
});

afterAll(async () => {
  await service?.stop();
});

describe("InboxService over REST, as the inbox's user", () => {
  it("lists the messages sent in-app, newest first, page by page", async () => {
    const first = await list({ page_size: "2" });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(seqsOf(first)).toEqual([5, 4]);
    expect(first.body.next_page_token).toBe("4");
    const second = await list({ page_size: "2", page_token: "4" });
    expect([seqsOf(second), second.body.next_page_token]).toEqual([[3, 2], "2"]);
    const last = await list({ page_size: "2", page_token: "2" });
    expect([seqsOf(last), last.body.next_page_token]).toEqual([[1], ""]);

    const all = await list();
    expect(seqsOf(all)).toEqual([5, 4, 3, 2, 1]);
    expect(all.body.next_page_token).toBe("");
    const messages = all.body.messages ?? [];
    expect(messages.map((message) => message.title).sort()).toEqual(
      [1, 2, 3, 4, 5].map((index) => `Заказ ORD-${index}`),
    );
    for (const message of messages) {
      expect(message).toMatchObject({
        notification_type: TEMPLATE,
        body: `${message.title} отправлен`,
        create_time: expect.any(String),
      });
      expect(message.read_time).toBeUndefined();
      idOfSeq.set(Number(message.seq), message.message_id);
    }
    // Another user's message is in their own inbox only.
    expect(messages.map((message) => message.title)).not.toContain("Заказ ORD-other");
    expect(seqsOf(await list({}, "stranger", OTHER_USER))).toEqual([1]);
  });

  it("counts the unread messages and answers the highest seq", async () => {
    const answer = await unreadCount();
    expect([answer.status, answer.body]).toEqual([200, { unread: 5, head_seq: "5" }]);
  });

  it("marks a message read, recording it as opened once: a second read changes nothing", async () => {
    const read = await change("markRead", [2]);
    expect([read.status, read.body]).toEqual([200, { changed: 1, unread: 4 }]);
    const opened = await statusOf(idOfSeq.get(2) ?? "");
    expect(opened).toMatchObject({ status: "MESSAGE_STATUS_OPENED", provider_name: "in-app" });
    expect(opened.opened_time).toEqual(expect.any(String));

    const again = await change("markRead", [2]);
    expect(again.body).toEqual({ changed: 0, unread: 4 });
    expect((await statusOf(idOfSeq.get(2) ?? "")).opened_time).toBe(opened.opened_time);

    expect(seqsOf(await list({ filter: "INBOX_FILTER_READ" }))).toEqual([2]);
    expect(seqsOf(await list({ filter: "INBOX_FILTER_UNREAD" }))).toEqual([5, 4, 3, 1]);
    expect((await list({ filter: "INBOX_FILTER_READ" })).body.messages?.[0]?.read_time).toEqual(
      expect.any(String),
    );
    // The others are still only sent.
    expect((await statusOf(idOfSeq.get(1) ?? "")).status).toBe("MESSAGE_STATUS_SENT");
  });

  it("marks a message unread again; the message log keeps that it was opened", async () => {
    const unread = await change("markUnread", [2, 3]);
    expect([unread.status, unread.body]).toEqual([200, { changed: 1, unread: 5 }]);
    expect((await change("markUnread", [2])).body).toEqual({ changed: 0, unread: 5 });
    expect(seqsOf(await list({ filter: "INBOX_FILTER_READ" }))).toEqual([]);
    expect((await statusOf(idOfSeq.get(2) ?? "")).status).toBe("MESSAGE_STATUS_OPENED");
  });

  it("archives messages without reading them: they leave the list and the unread count", async () => {
    const archived = await change("archive", [4, 5]);
    expect([archived.status, archived.body]).toEqual([200, { changed: 2, unread: 3 }]);
    expect((await change("archive", [5])).body).toEqual({ changed: 0, unread: 3 });
    expect(seqsOf(await list())).toEqual([3, 2, 1]);
    const shelf = await list({ filter: "INBOX_FILTER_ARCHIVED" });
    expect(seqsOf(shelf)).toEqual([5, 4]);
    expect(shelf.body.messages?.[0]).toMatchObject({ archive_time: expect.any(String) });
    expect(shelf.body.messages?.[0]?.read_time).toBeUndefined();
    expect((await statusOf(idOfSeq.get(5) ?? "")).status).toBe("MESSAGE_STATUS_SENT");
  });

  it("marks every unread message read at once, each recorded as opened, the archived ones left", async () => {
    const all = await change("markAllRead");
    expect([all.status, all.body]).toEqual([200, { changed: 3, unread: 0 }]);
    expect((await change("markAllRead")).body).toEqual({ changed: 0, unread: 0 });
    for (const seq of [1, 2, 3]) {
      expect((await statusOf(idOfSeq.get(seq) ?? "")).status, `seq ${seq}`).toBe("MESSAGE_STATUS_OPENED");
    }
    for (const seq of [4, 5]) {
      expect((await statusOf(idOfSeq.get(seq) ?? "")).status, `seq ${seq}`).toBe("MESSAGE_STATUS_SENT");
    }
    expect(seqsOf(await list({ filter: "INBOX_FILTER_READ" }))).toEqual([3, 2, 1]);
    expect((await unreadCount()).body).toEqual({ unread: 0, head_seq: "5" });
  });
});

describe("InboxService over Connect, gRPC and gRPC-Web", () => {
  it("lists the same inbox as REST with the generated client", async () => {
    const overRest = (await list({ filter: "INBOX_FILTER_ARCHIVED" })).body;
    for (const [surface, transport] of Object.entries(
      transportsOf(service, [authInterceptor(USER, ["user"])]),
    )) {
      const client = createClient(InboxService, transport);
      const answer = await client.listInbox({ userId: USER, filter: InboxFilter.ARCHIVED });
      expect(
        answer.messages.map((message) => message.seq),
        surface,
      ).toEqual([5n, 4n]);
      expect(toJson(ListInboxResponseSchema, answer, JSON_OPTIONS), surface).toEqual(overRest);
      const count = await client.getUnreadCount({ userId: USER });
      expect([count.unread, count.headSeq], surface).toEqual([0, 5n]);
    }
  });
});

describe("who may act on an inbox", () => {
  const everyMethod = (who: Who): [string, () => Promise<Answer>][] => [
    ["ListInbox", () => list({}, who)],
    ["GetUnreadCount", () => unreadCount(who)],
    ["MarkRead", () => change("markRead", [1], who)],
    ["MarkUnread", () => change("markUnread", [1], who)],
    ["MarkAllRead", () => change("markAllRead", undefined, who)],
    ["Archive", () => change("archive", [1], who)],
  ];

  it("refuses another user every method on this user's inbox, over REST and Connect", async () => {
    const before = await list({ filter: "INBOX_FILTER_READ" });
    for (const [method, call] of everyMethod("stranger")) {
      const answer = await call();
      expect(answer.status, method).toBe(403);
      expect(answer.body.errors?.[0], method).toMatchObject({
        code: "PERMISSION_DENIED",
        detail: "a user may act only on their own data: user_id must be the caller's id",
      });
    }
    const client = createClient(
      InboxService,
      transportsOf(service, [authInterceptor(OTHER_USER, ["user"])]).connect,
    );
    const codes = await Promise.all(
      [
        client.listInbox({ userId: USER }),
        client.getUnreadCount({ userId: USER }),
        client.markRead({ userId: USER, seqs: [1n] }),
        client.markUnread({ userId: USER, seqs: [1n] }),
        client.markAllRead({ userId: USER }),
        client.archive({ userId: USER, seqs: [1n] }),
      ].map((call) =>
        call.then(
          () => "ok",
          (error) => Code[ConnectError.from(error).code],
        ),
      ),
    );
    expect(codes).toEqual(Array(6).fill("PermissionDenied"));
    expect((await list({ filter: "INBOX_FILTER_READ" })).body).toEqual(before.body);
  });

  it("lets support list and count, but not read for the user", async () => {
    expect((await list({}, "support")).status).toBe(200);
    expect((await unreadCount("support")).status).toBe(200);
    const read = await change("markRead", [4], "support");
    expect(read.status).toBe(403);
    expect(read.body.errors?.[0]?.code).toBe("PERMISSION_DENIED");
    expect(seqsOf(await list({ filter: "INBOX_FILTER_ARCHIVED" }))).toEqual([5, 4]);
  });

  it("answers 401 to a call without credentials", async () => {
    for (const [method, call] of everyMethod("anonymous")) {
      const answer = await call();
      expect(answer.status, method).toBe(401);
      expect(answer.body.errors?.[0]?.code, method).toBe("UNAUTHENTICATED");
    }
  });
});

describe("malformed requests", () => {
  const problemOf = (answer: Answer) => {
    expect(answer.status, JSON.stringify(answer.body)).toBe(400);
    const [error] = answer.body.errors ?? [];
    expect(error?.code).toBe("VALIDATION_ERROR");
    return { detail: error?.detail, source: error?.source };
  };

  it("names the parameter or the body field that is wrong", async () => {
    expect(problemOf(await list({ page_size: "500" }))).toEqual({
      detail: expect.stringMatching(/^page_size: .*200/),
      source: { parameter: "page_size" },
    });
    expect(problemOf(await list({ page_token: "4a" }))).toEqual({
      detail: expect.stringMatching(/^page_token: /),
      source: { parameter: "page_token" },
    });
    expect(problemOf(await list({ page_token: "0" }))).toEqual({
      detail: "page_token is not one this list gave",
      source: { parameter: "page_token" },
    });
    expect(problemOf(await change("markRead", []))).toEqual({
      detail: expect.stringMatching(/^seqs: /),
      source: { pointer: "/seqs" },
    });
    expect(problemOf(await change("archive", [0]))).toEqual({
      detail: expect.stringMatching(/^seqs\.0: /),
      source: { pointer: "/seqs/0" },
    });
    // An admin gets past the owner check, so the id itself is what is refused.
    expect(problemOf(await list({}, "admin", "not-a-uuid"))).toEqual({
      detail: expect.stringMatching(/^user_id: .*UUID/i),
      source: { parameter: "user_id" },
    });
  });

  it("changes nothing for a seq no message has, however large", async () => {
    const answer = await change("markUnread", [99, "9223372036854775807"]);
    expect([answer.status, answer.body]).toEqual([200, { changed: 0, unread: 0 }]);
  });
});
