// The probes that once froze the process, sent to the built service: each must answer a
// clear 4xx quickly, and while several run at once the service's event loop must keep
// answering health checks.
import { randomUUID } from "node:crypto";
import type { JsonObject } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorDetailSchema } from "../../gen/platform/notification/v1/errors_pb.ts";
import { TemplateService } from "../../gen/platform/notification/v1/template_service_pb.ts";
import { AUTH_ENV, authHeaders, authInterceptor } from "../support/credentials.ts";
import { underHealthChecks } from "../support/event-loop.ts";
import { type ServiceProcess, startServiceProcess } from "../support/service-process.ts";
import { transportsOf } from "../support/surfaces.ts";

const nested = (depth: number, inner = "") => `${"{{#a}}".repeat(depth)}${inner}${"{{/a}}".repeat(depth)}`;
const items = (count: number, length = 8) =>
  Array.from({ length: count }, (_, index) => `item ${index} `.padEnd(length, "x"));

interface RestAnswer {
  status: number;
  body: { errors?: { code: string; title: string; detail: string; source?: { pointer?: string } }[] };
  ms: number;
}

describe("hostile templates against the service process", () => {
  let service: ServiceProcess;
  let templateId: string;
  /** Version of each probe's content. */
  const versions = { benign: 0, fourDeep: 0, fiveDeep: 0 };

  const rest = async (method: string, path: string, body: JsonObject): Promise<RestAnswer> => {
    const started = performance.now();
    const response = await fetch(`${service.httpUrl}/api/v1/notifications${path}`, {
      method,
      headers: { ...authHeaders(), "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const answer = (await response.json()) as RestAnswer["body"];
    return { status: response.status, body: answer, ms: performance.now() - started };
  };
  const preview = (version: number, variables: JsonObject) =>
    rest("POST", `/templates/${templateId}:preview`, { version, language_code: "ru", variables });
  const addVersion = async (bodyHtml: string) => {
    const answer = await rest("POST", `/templates/${templateId}/versions`, {
      locales: [{ language_code: "ru", subject: "Тема", body: "Текст", body_html: bodyHtml }],
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return Number((answer.body as JsonObject).version);
  };

  beforeAll(async () => {
    service = await startServiceProcess({
      // The API alone: a worker in the same process would take up the consumer groups' backlog
      // left by the tests before, and its work would be measured as the templates'.
      role: "api",
      env: AUTH_ENV,
    });
    const created = await rest("POST", "/templates", {
      name: `hostile_${randomUUID().slice(0, 8)}`,
      channel_type: "CHANNEL_EMAIL",
      default_language_code: "ru",
    });
    templateId = String((created.body as JsonObject).id);
    versions.benign = await addVersion("<ul>{{#a}}<li>{{.}}</li>{{/a}}</ul>");
    versions.fourDeep = await addVersion(nested(4));
    versions.fiveDeep = await addVersion(nested(5, "<p>{{.}} — {{.}}</p>"));
  });

  afterAll(async () => {
    await service?.stop();
  });

  const probes: [name: string, version: () => number, variables: JsonObject][] = [
    ["4 nested sections × 140 items", () => versions.fourDeep, { a: items(140) }],
    // An 800-byte request that mustache.js answered with 100 MB.
    ["5 nested sections × 16 items", () => versions.fiveDeep, { a: items(16, 40) }],
    // Long items: the output limit comes before the step limit.
    ["5 nested sections × 24 items", () => versions.fiveDeep, { a: items(24, 200) }],
  ];

  it.each(probes)("answers %s with 400 TEMPLATE_RENDER_LIMIT at once", async (_, version, variables) => {
    const answer = await preview(version(), variables);
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([
      {
        code: "TEMPLATE_RENDER_LIMIT",
        title: "Превышен лимит отрисовки шаблона",
        detail: expect.stringMatching(
          /body_html .*\d+ (steps|bytes) \(TEMPLATE_RENDER_MAX_(STEPS|OUTPUT_BYTES)\)/,
        ),
      },
    ]);
    expect(answer.ms).toBeLessThan(1000);
  });

  it("answers the same probe over Connect, gRPC and gRPC-Web with invalid_argument and the code", async () => {
    const transports = transportsOf(service, [authInterceptor()]);
    const request = {
      templateId,
      version: versions.fourDeep,
      languageCode: "ru",
      variables: { a: items(140) },
    };
    for (const [surface, transport] of Object.entries(transports)) {
      const error = await createClient(TemplateService, transport)
        .renderTemplatePreview(request)
        .then(
          () => undefined,
          (reason: unknown) => ConnectError.from(reason),
        );
      expect(error?.code, surface).toBe(Code.InvalidArgument);
      expect(error?.findDetails(ErrorDetailSchema)[0], surface).toMatchObject({
        code: "TEMPLATE_RENDER_LIMIT",
        title: "Превышен лимит отрисовки шаблона",
        detail: expect.stringContaining("(TEMPLATE_RENDER_MAX_STEPS)"),
      });
    }
  });

  it("refuses 3,000 nested sections in a version body with a pointer to the field", async () => {
    const answer = await rest("POST", `/templates/${templateId}/versions`, {
      locales: [{ language_code: "ru", subject: "Тема", body: nested(3000, "{{x}}"), body_html: "" }],
    });
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([
      {
        code: "VALIDATION_ERROR",
        title: "Ошибка валидации запроса",
        detail: expect.stringContaining("body nests sections 3000 deep"),
        source: { pointer: "/locales/0/body" },
      },
    ]);
    expect(answer.ms).toBeLessThan(1000);
  });

  it("keeps the event loop under 50 ms while hostile previews run beside health checks", async () => {
    // A service in production has served requests before a hostile one comes; the first
    // requests of a fresh process run in V8's interpreter, whatever they ask for.
    for (let i = 0; i < 20; i++) expect((await preview(versions.benign, { a: items(20) })).status).toBe(200);
    const wave = [...probes, ...probes];
    const statuses: number[] = [];
    const { loopMaxMs, healthMaxMs, figures } = await underHealthChecks(service, async () => {
      for (let round = 0; round < 3; round++) {
        const answers = await Promise.all(
          wave.map(([, version, variables]) => preview(version(), variables)),
        );
        statuses.push(...answers.map((answer) => answer.status));
      }
    });

    expect(statuses).toEqual(statuses.map(() => 400));
    expect(loopMaxMs, figures).toBeLessThan(50);
    // The round trip also waits on the test process and on cores shared with other work, so
    // it gets more room; mustache.js held every health check for the seconds a render took.
    expect(healthMaxMs, figures).toBeLessThan(200);
  });
});
