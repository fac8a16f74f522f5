import { randomUUID } from "node:crypto";
import * as http2 from "node:http2";
import { gzipSync } from "node:zlib";
import { fromJson, type JsonObject, toBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CreateTemplateRequestSchema } from "../../gen/platform/notification/v1/template_service_pb.ts";
import { AUTH_ENV, authHeaders, bearerToken } from "../support/credentials.ts";
import { type ServiceProcess, startServiceProcess } from "../support/service-process.ts";

// What a careless or hostile client can send gets a clear 4xx, never a 500: text that
// PostgreSQL cannot store, values longer than their columns, and binary Protobuf that
// does not decode.
let service: ServiceProcess;
const API = "/api/v1/notifications";
const admin = authHeaders("bad-input-admin", ["admin"]);
const CREATE_TEMPLATE = "/platform.notification.v1.TemplateService/CreateTemplate";

beforeAll(async () => {
  service = await startServiceProcess({ env: AUTH_ENV });
});

afterAll(async () => {
  await service?.stop();
});

interface RestAnswer {
  status: number;
  errors: { code: string; detail: string; source?: { pointer?: string; parameter?: string } }[];
}

async function rest(method: string, path: string, body?: string): Promise<RestAnswer> {
  const response = await fetch(`${service.httpUrl}${API}${path}`, {
    method,
    headers: { ...admin, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body }),
  });
  const json = (await response.json()) as { errors?: RestAnswer["errors"] };
  return { status: response.status, errors: json.errors ?? [] };
}

function template(overrides: JsonObject = {}): JsonObject {
  return {
    name: `bad_input_${randomUUID().slice(0, 8)}`,
    channel_type: "CHANNEL_EMAIL",
    default_language_code: "ru",
    ...overrides,
  };
}

describe("text PostgreSQL cannot store", () => {
  it("refuses NUL anywhere in a REST body, a query or a map key, with a pointer to it", async () => {
    const probes: {
      path: string;
      method: string;
      body?: string;
      at: { pointer?: string; parameter?: string };
    }[] = [
      {
        method: "POST",
        path: "/templates",
        body: JSON.stringify(template({ description: "a\u0000b" })),
        at: { pointer: "/description" },
      },
      {
        method: "POST",
        path: "/templates",
        body: JSON.stringify(template({ example_variables: { user: { name: "x\u0000" } } })),
        at: { pointer: "/example_variables/user/name" },
      },
      {
        method: "POST",
        path: "/templates",
        body: JSON.stringify(template({ example_variables: { "ke\u0000y": 1 } })),
        at: { pointer: "/example_variables/ke\u0000y" },
      },
      {
        method: "POST",
        path: "/api-keys",
        body: JSON.stringify({ name: "ops\u0000", roles: ["ROLE_SERVICE"] }),
        at: { pointer: "/name" },
      },
      {
        method: "POST",
        path: `/devices/users/${randomUUID()}`,
        body: JSON.stringify({
          platform: "DEVICE_PLATFORM_ANDROID_FCM",
          token: `token-${randomUUID()}`,
          app_version: "5.\u00002",
        }),
        at: { pointer: "/app_version" },
      },
      { method: "GET", path: "/templates?name_prefix=or%00der", at: { parameter: "name_prefix" } },
    ];
    for (const probe of probes) {
      const answer = await rest(probe.method, probe.path, probe.body);
      expect({ probe: probe.path, status: answer.status }).toEqual({ probe: probe.path, status: 400 });
      expect(answer.errors[0]).toMatchObject({ code: "VALIDATION_ERROR", source: probe.at });
      expect(answer.errors[0]?.detail).toContain("NUL");
    }
  });

  it("refuses NUL in a version body and an unpaired surrogate in JSON variables over Connect", async () => {
    const created = await fetch(`${service.httpUrl}${API}/templates`, {
      method: "POST",
      headers: { ...admin, "content-type": "application/json" },
      body: JSON.stringify(template()),
    });
    expect(created.status).toBe(200);
    const { id } = (await created.json()) as { id: string };
    const connect = (method: string, request: JsonObject) =>
      fetch(`${service.httpUrl}/platform.notification.v1.TemplateService/${method}`, {
        method: "POST",
        headers: { ...admin, "content-type": "application/json" },
        // JSON.stringify writes both as \u escapes, as a client in another language would.
        body: JSON.stringify(request),
      });
    const probes = [
      {
        response: await connect("CreateTemplateVersion", {
          templateId: id,
          locales: [{ languageCode: "ru", body: "Hello\u0000" }],
        }),
        reason: "NUL",
        at: "locales.0.body",
      },
      {
        response: await connect("CreateTemplate", {
          template: template({ example_variables: { name: "Ivan \ud800" } }),
        }),
        reason: "unpaired surrogate",
        at: "template.example_variables.name",
      },
    ];
    for (const { response, reason, at } of probes) {
      expect(response.status).toBe(400);
      const error = (await response.json()) as { code: string; message: string };
      expect(error.code).toBe("invalid_argument");
      expect(error.message).toContain(reason);
      expect(error.message).toContain(at);
    }
  });

  it("refuses a language code longer than its column", async () => {
    const answer = await rest(
      "POST",
      "/templates",
      JSON.stringify(template({ default_language_code: `ru-${"abcdefgh-".repeat(4)}x1` })),
    );
    expect(answer.status).toBe(400);
    expect(answer.errors[0]).toMatchObject({
      code: "VALIDATION_ERROR",
      source: { pointer: "/default_language_code" },
    });
  });
});

// Bytes that are not a CreateTemplateRequest, each broken in another way.
function lengthDelimited(tag: number, bytes: Uint8Array): Uint8Array {
  const length: number[] = [];
  for (let rest = bytes.length; ; rest >>>= 7) {
    if (rest < 0x80) {
      length.push(rest);
      break;
    }
    length.push((rest & 0x7f) | 0x80);
  }
  return new Uint8Array([tag, ...length, ...bytes]);
}

/** CreateTemplateRequest{template{example_variables: {"k": {"k": … }}}}, `depth` Structs deep. */
function nestedStructs(depth: number): Uint8Array {
  let struct: Uint8Array = new Uint8Array(0);
  for (let i = 0; i < depth; i++) {
    const value = lengthDelimited(0x2a, struct); // Value.struct_value = 5
    const entry = Uint8Array.from([0x0a, 0x01, 0x6b, ...lengthDelimited(0x12, value)]);
    struct = lengthDelimited(0x0a, entry); // Struct.fields = 1
  }
  return lengthDelimited(0x0a, lengthDelimited(0x32, struct)); // template = 1, example_variables = 6
}

const MALFORMED: Record<string, Uint8Array> = {
  "truncated varint": Uint8Array.of(0x10, 0xff, 0xff),
  "invalid UTF-8": Uint8Array.of(0x0a, 0x04, 0x12, 0x02, 0xc3, 0x28),
  "bad wire type": Uint8Array.of(0x0f, 0x01),
  "length past the end": Uint8Array.of(0x0a, 0x7f, 0x12),
  "nesting over 100": nestedStructs(120),
};

function envelope(message: Uint8Array, compressed = false): Uint8Array {
  const framed = new Uint8Array(5 + message.length);
  framed[0] = compressed ? 1 : 0;
  new DataView(framed.buffer).setUint32(1, message.length);
  framed.set(message, 5);
  return framed;
}

async function grpcCall(path: string, message: Uint8Array, authorization: string | undefined, gzip = false) {
  const session = http2.connect(service.grpcUrl);
  try {
    return await new Promise<{ status: string | undefined; message: string | undefined }>(
      (resolve, reject) => {
        const stream = session.request({
          ":method": "POST",
          ":path": path,
          "content-type": "application/grpc",
          te: "trailers",
          ...(authorization ? { authorization } : {}),
          ...(gzip ? { "grpc-encoding": "gzip" } : {}),
        });
        let headers: http2.IncomingHttpHeaders = {};
        stream.on("response", (h) => {
          headers = h;
        });
        stream.on("trailers", (trailers) => {
          const all = { ...headers, ...trailers };
          resolve({
            status: all["grpc-status"] as string | undefined,
            message: decodeURIComponent(String(all["grpc-message"] ?? "")),
          });
        });
        stream.on("error", reject);
        stream.on("end", () =>
          resolve({ status: headers["grpc-status"] as string | undefined, message: "" }),
        );
        stream.resume();
        stream.end(gzip ? envelope(gzipSync(message), true) : envelope(message));
      },
    );
  } finally {
    session.close();
  }
}

describe("binary Protobuf that does not decode", () => {
  it("answers INVALID_ARGUMENT over Connect, logged and counted like any bad request", async () => {
    for (const [name, bytes] of Object.entries(MALFORMED)) {
      const response = await fetch(`${service.httpUrl}${CREATE_TEMPLATE}`, {
        method: "POST",
        headers: { ...admin, "content-type": "application/proto" },
        body: bytes,
      });
      const error = (await response.json()) as { code: string; message: string };
      expect({ name, status: response.status, code: error.code }).toEqual({
        name,
        status: 400,
        code: "invalid_argument",
      });
      expect(error.message).toContain("not valid Protobuf");
    }
    const line = service.logs.find(
      (entry) =>
        entry.procedure === "platform.notification.v1.TemplateService/CreateTemplate" &&
        entry.code === "InvalidArgument",
    );
    expect(line).toBeDefined();
  });

  it("answers INVALID_ARGUMENT (3) over gRPC, and UNAUTHENTICATED first to anonymous callers", async () => {
    const authorization = `Bearer ${bearerToken("bad-input-admin", ["admin"])}`;
    for (const [name, bytes] of Object.entries(MALFORMED)) {
      const answer = await grpcCall(CREATE_TEMPLATE, bytes, authorization);
      expect({ name, status: answer.status }).toEqual({ name, status: "3" });
      expect(answer.message).toContain("not valid Protobuf");
    }
    const anonymous = await grpcCall(CREATE_TEMPLATE, MALFORMED["truncated varint"] as Uint8Array, undefined);
    expect(anonymous.status).toBe("16");
  });

  it("answers INVALID_ARGUMENT (3) over gRPC-Web", async () => {
    for (const [name, bytes] of Object.entries(MALFORMED)) {
      const response = await fetch(`${service.httpUrl}${CREATE_TEMPLATE}`, {
        method: "POST",
        headers: { ...admin, "content-type": "application/grpc-web+proto", "x-grpc-web": "1" },
        body: envelope(bytes),
      });
      const body = new Uint8Array(await response.arrayBuffer());
      // The trailers travel in the body as the last frame, flagged 0x80.
      const trailerAt = body.findIndex((byte, index) => byte === 0x80 && index + 5 <= body.length);
      const trailers = Buffer.from(body.subarray(trailerAt + 5)).toString("utf8");
      expect({ name, status: /grpc-status: ?(\d+)/i.exec(trailers)?.[1] }).toEqual({ name, status: "3" });
    }
  });

  it("judges compressed messages by what they decompress to", async () => {
    const authorization = `Bearer ${bearerToken("bad-input-admin", ["admin"])}`;
    const valid = toBinary(
      CreateTemplateRequestSchema,
      fromJson(CreateTemplateRequestSchema, { template: template() }),
    );
    expect((await grpcCall(CREATE_TEMPLATE, valid, authorization, true)).status).toBe("0");
    const broken = MALFORMED["invalid UTF-8"] as Uint8Array;
    expect((await grpcCall(CREATE_TEMPLATE, broken, authorization, true)).status).toBe("3");
  });
});
