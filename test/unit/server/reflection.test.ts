import { fromBinary, getExtension, type MessageInitShape } from "@bufbuild/protobuf";
import { type FileDescriptorProto, FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, createClient, createRouterTransport } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { Health } from "../../../gen/grpc/health/v1/health_pb.ts";
import { ServerReflection as ServerReflectionV1 } from "../../../gen/grpc/reflection/v1/reflection_pb.ts";
import {
  type ServerReflectionRequestSchema,
  ServerReflection as ServerReflectionV1alpha,
} from "../../../gen/grpc/reflection/v1alpha/reflection_pb.ts";
import { access, Role } from "../../../gen/platform/notification/v1/access_pb.ts";
import { TemplateService } from "../../../gen/platform/notification/v1/template_service_pb.ts";
import { createDescriptorIndex } from "../../../server/reflection/descriptor-index.ts";
import { registerReflection } from "../../../server/reflection/reflection.service.ts";
import {
  answerReflectionQuery,
  type ReflectionAnswer,
  type ReflectionQuery,
} from "../../../server/reflection/reflection-answer.ts";

const index = createDescriptorIndex([Health, TemplateService, ServerReflectionV1, ServerReflectionV1alpha]);

function ask(query: ReflectionQuery, sentFiles = new Set<string>()): ReflectionAnswer {
  return answerReflectionQuery(index, query, sentFiles);
}

function filesOf(answer: ReflectionAnswer): FileDescriptorProto[] {
  if (answer.case !== "fileDescriptorResponse") throw new Error(`expected files, got ${answer.case}`);
  return answer.value.fileDescriptorProto.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes));
}

function namesOf(answer: ReflectionAnswer): string[] {
  return filesOf(answer).map((file) => file.name);
}

describe("answerReflectionQuery", () => {
  it("lists every service it was given, once each", () => {
    const twice = createDescriptorIndex([Health, Health, ServerReflectionV1]);
    expect(answerReflectionQuery(twice, { case: "listServices", value: "" }, new Set())).toEqual({
      case: "listServicesResponse",
      value: {
        service: [{ name: "grpc.health.v1.Health" }, { name: "grpc.reflection.v1.ServerReflection" }],
      },
    });
  });

  it("finds a file by name, the file first", () => {
    const [health] = filesOf(ask({ case: "fileByFilename", value: "grpc/health/v1/health.proto" }));
    expect(health?.package).toBe("grpc.health.v1");
    expect(health?.service.map((service) => service.name)).toEqual(["Health"]);
  });

  it("answers a service with its file and every transitive import, each once", () => {
    const names = namesOf(
      ask({ case: "fileContainingSymbol", value: "platform.notification.v1.TemplateService" }),
    );
    expect(names[0]).toBe("platform/notification/v1/template_service.proto");
    expect(names).toEqual(
      expect.arrayContaining([
        "platform/notification/v1/access.proto",
        "buf/validate/validate.proto",
        "google/api/annotations.proto",
        "google/api/http.proto",
        "google/protobuf/descriptor.proto",
        "google/protobuf/timestamp.proto",
      ]),
    );
    expect(new Set(names).size).toBe(names.length);
  });

  it("keeps custom method options, so a client can read the access policy", () => {
    const [file] = filesOf(
      ask({ case: "fileContainingSymbol", value: "platform.notification.v1.TemplateService" }),
    );
    const create = file?.service[0]?.method.find((method) => method.name === "CreateTemplate");
    expect(create?.options).toBeDefined();
    if (create?.options) expect(getExtension(create.options, access).roles).toContain(Role.ADMIN);
  });

  it("skips imports already sent on the stream but always sends the requested file", () => {
    const sent = new Set<string>();
    namesOf(ask({ case: "fileContainingSymbol", value: "platform.notification.v1.TemplateService" }, sent));
    expect(namesOf(ask({ case: "fileByFilename", value: "google/api/annotations.proto" }, sent))).toEqual([
      "google/api/annotations.proto",
    ]);
  });

  it.each([
    ["a method", "grpc.health.v1.Health.Check"],
    ["a message", "grpc.health.v1.HealthCheckRequest"],
    ["a field", "grpc.health.v1.HealthCheckRequest.service"],
    ["a nested enum", "grpc.health.v1.HealthCheckResponse.ServingStatus"],
    ["a nested enum's value", "grpc.health.v1.HealthCheckResponse.SERVING"],
  ])("finds the file declaring %s", (_, symbol) => {
    expect(namesOf(ask({ case: "fileContainingSymbol", value: symbol }))[0]).toBe(
      "grpc/health/v1/health.proto",
    );
  });

  it("finds well-known and option types among the imports", () => {
    expect(namesOf(ask({ case: "fileContainingSymbol", value: "buf.validate.FieldRules" }))[0]).toBe(
      "buf/validate/validate.proto",
    );
    expect(namesOf(ask({ case: "fileContainingSymbol", value: "google.protobuf.Timestamp" }))[0]).toBe(
      "google/protobuf/timestamp.proto",
    );
  });

  it("lists the extension numbers of a type and finds the file of one", () => {
    const answer = ask({ case: "allExtensionNumbersOfType", value: "google.protobuf.MethodOptions" });
    expect(answer.case).toBe("allExtensionNumbersResponse");
    if (answer.case === "allExtensionNumbersResponse") {
      expect(answer.value.baseTypeName).toBe("google.protobuf.MethodOptions");
      // platform.notification.v1.access and google.api.http
      expect(answer.value.extensionNumber).toEqual([51001, 72295728]);
    }
    const query = { containingType: "google.protobuf.MethodOptions", extensionNumber: 51001 };
    expect(namesOf(ask({ case: "fileContainingExtension", value: query }))[0]).toBe(
      "platform/notification/v1/access.proto",
    );
    expect(ask({ case: "allExtensionNumbersOfType", value: "grpc.health.v1.HealthCheckRequest" })).toEqual({
      case: "allExtensionNumbersResponse",
      value: { baseTypeName: "grpc.health.v1.HealthCheckRequest", extensionNumber: [] },
    });
  });

  it.each<[string, ReflectionQuery]>([
    ["symbol", { case: "fileContainingSymbol", value: "no.such.Service" }],
    ["file", { case: "fileByFilename", value: "no/such.proto" }],
    ["type", { case: "allExtensionNumbersOfType", value: "no.such.Message" }],
    [
      "extension",
      {
        case: "fileContainingExtension",
        value: { containingType: "google.protobuf.MethodOptions", extensionNumber: 1 },
      },
    ],
  ])("answers NOT_FOUND for an unknown %s", (_, query) => {
    const answer = ask(query);
    expect(answer.case).toBe("errorResponse");
    if (answer.case === "errorResponse") expect(answer.value.errorCode).toBe(Code.NotFound);
  });

  it("answers INVALID_ARGUMENT for a request that asks nothing", () => {
    expect(ask({ case: undefined })).toMatchObject({
      case: "errorResponse",
      value: { errorCode: Code.InvalidArgument },
    });
  });
});

describe("the reflection routes", () => {
  it("keep a v1alpha stream open after an error and list themselves", async () => {
    const transport = createRouterTransport((router) => registerReflection(router));
    const client = createClient(ServerReflectionV1alpha, transport);
    async function* requests(): AsyncGenerator<MessageInitShape<typeof ServerReflectionRequestSchema>> {
      yield { host: "h", messageRequest: { case: "fileContainingSymbol", value: "no.such.Symbol" } };
      yield { messageRequest: { case: "listServices", value: "" } };
    }
    const answers = [];
    for await (const answer of client.serverReflectionInfo(requests())) answers.push(answer);
    expect(answers.map((answer) => answer.messageResponse.case)).toEqual([
      "errorResponse",
      "listServicesResponse",
    ]);
    expect(answers[0]?.validHost).toBe("h");
    expect(answers[0]?.originalRequest?.messageRequest.value).toBe("no.such.Symbol");
    const [, list] = answers;
    if (list?.messageResponse.case === "listServicesResponse") {
      expect(list.messageResponse.value.service.map((service) => service.name)).toEqual([
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
      ]);
    }
  });
});
