import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { parseUnisenderGoWebhook } from "../../../dispatch/index.ts";
import { signUnisenderGoWebhook } from "../../../scripts/provider-peers/index.ts";

const apiKey = "5f2c9e7a1b3d4c6e8f0a2b4c6d8e0f1a";
const provider = "unisender-go";

function status(fields: Record<string, unknown>): Record<string, unknown> {
  return {
    event_name: "transactional_email_status",
    event_data: {
      job_id: "1ZymBc-00041N-9X",
      metadata: { message_id: "m-1" },
      email: "ivan@example.com",
      event_time: "2026-03-01 09:15:30",
      ...fields,
    },
  };
}

function call(...events: Record<string, unknown>[]): string {
  return signUnisenderGoWebhook({ events_by_user: [{ user_id: 1, events }] }, apiKey);
}

describe("parseUnisenderGoWebhook", () => {
  it("checks the signature over the body as it came: escaped slashes and Unicode, any key order", () => {
    // What Unisender Go writes is not what JSON.stringify would: re-serialising would break the digest.
    const unsigned =
      '{"events_by_user":[{"events":[{"event_data":{"status":"delivered","event_time":"2026-03-01 09:15:30",' +
      '"url":"https:\\/\\/example.com\\/a","metadata":{"message_id":"m-1","note":"\\u041c\\u0435\\u0442\\u0430"},' +
      `"job_id":"1ZymBc-00041N-9X"},"event_name":"transactional_email_status"}],"user_id":1}],"auth":"${apiKey}"}`;
    const digest = createHash("md5").update(unsigned).digest("hex");
    const body = unsigned.replace(apiKey, digest);
    expect(parseUnisenderGoWebhook(body, apiKey, provider)).toEqual({
      events: [
        {
          report: {
            provider,
            providerMessageId: "1ZymBc-00041N-9X",
            at: new Date("2026-03-01T09:15:30Z"),
            kind: "delivered",
          },
          messageId: "m-1",
        },
      ],
      ignored: [],
    });
    expect(parseUnisenderGoWebhook(body.replace("\\u041c", "\\u041d"), apiKey, provider)).toHaveProperty(
      "refused",
    );
  });

  it("refuses what cannot be a signed call", () => {
    const signed = call(status({ status: "delivered" }));
    for (const [body, reason] of [
      ["[]", "the body is not a JSON object"],
      ['{"events_by_user":[]}', "the body has no auth field"],
      ['{"auth":"","events_by_user":[]}', "auth is not an MD5 digest"],
      ['{"auth":"{","events_by_user":[]}', "auth is not an MD5 digest"],
      [
        signed.replace(/"auth":"[0-9a-f]{32}"/, `"auth":"${"0".repeat(32)}"`),
        "auth does not match the body signed with our API key",
      ],
    ] as const) {
      expect(parseUnisenderGoWebhook(body, apiKey, provider), body).toEqual({ refused: reason });
    }
  });

  it("throws without an API key to check with: anyone could sign for an empty one", () => {
    expect(() => parseUnisenderGoWebhook(call(status({ status: "delivered" })), "", provider)).toThrow(
      /API key/,
    );
  });

  it("reads every user's events, and a call of one event whose fields sit beside its name", () => {
    const twoUsers = signUnisenderGoWebhook(
      {
        events_by_user: [
          { user_id: 1, events: [status({ status: "delivered" })] },
          { user_id: 2, events: [status({ status: "spam", job_id: "2AbcDe-00001A-1B" })] },
        ],
      },
      apiKey,
    );
    const parsed = parseUnisenderGoWebhook(twoUsers, apiKey, provider);
    expect(
      "events" in parsed && parsed.events.map(({ report }) => [report.providerMessageId, report.kind]),
    ).toEqual([
      ["1ZymBc-00041N-9X", "delivered"],
      ["2AbcDe-00001A-1B", "complaint"],
    ]);

    const single = signUnisenderGoWebhook(
      {
        event_name: "transactional_email_status",
        user_id: 1,
        job_id: "3XyzAb-00002C-2D",
        email: "ivan@example.com",
        status: "unsubscribed",
        event_time: "2026-03-01 10:00:00",
      },
      apiKey,
    );
    expect(parseUnisenderGoWebhook(single, apiKey, provider)).toEqual({
      events: [
        {
          report: {
            provider,
            providerMessageId: "3XyzAb-00002C-2D",
            at: new Date("2026-03-01T10:00:00Z"),
            kind: "unsubscribed",
          },
          messageId: undefined,
        },
      ],
      ignored: [],
    });
  });

  it("leaves out engagement, spam blocks and what it cannot read, each with a reason, and reads the rest", () => {
    const body = call(
      status({ status: "opened" }),
      status({ status: "clicked", url: "https://example.com/" }),
      { event_name: "transactional_spam_block", event_data: { block_type: "one_smtp", domain: "mail.ru" } },
      status({ status: "delivered", job_id: "" }),
      status({ status: "delivered", event_time: "yesterday" }),
      status({ status: "delivered", event_time: "2026-02-30 10:00:00" }),
      { event_name: "something_new", event_data: {} },
      status({ status: "hard_bounced", delivery_info: { delivery_status: "err_user_unknown" } }),
    );
    expect(parseUnisenderGoWebhook(body, apiKey, provider)).toEqual({
      events: [
        {
          report: {
            provider,
            providerMessageId: "1ZymBc-00041N-9X",
            at: new Date("2026-03-01T09:15:30Z"),
            kind: "failed",
            permanent: true,
            reason: "hard_bounced: err_user_unknown",
          },
          messageId: "m-1",
        },
      ],
      ignored: [
        "opened of job 1ZymBc-00041N-9X: not reported yet",
        "clicked of job 1ZymBc-00041N-9X: not reported yet",
        "transactional_spam_block: a block of our sending, about no one message",
        "a delivered status naming no job",
        "delivered of job 1ZymBc-00041N-9X: no readable event_time",
        "delivered of job 1ZymBc-00041N-9X: no readable event_time",
        "an event named something_new",
      ],
    });
  });
});
