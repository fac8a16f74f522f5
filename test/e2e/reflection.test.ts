import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fromBinary } from "@bufbuild/protobuf";
import { base64Decode } from "@bufbuild/protobuf/wire";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SERVED_SERVICES } from "../../server/api/routes.ts";
import { eventually, type ServiceProcess, startServiceProcess } from "../support/service-process.ts";
import { REPO_ROOT } from "../support/services.ts";

/** Installed by `scripts/tools install`, which `npm test` runs. */
const GRPCURL = `${REPO_ROOT}.local/tools/bin/grpcurl`;

/**
 * `grpcurl [flags] address command...`. grpcurl knows none of our protos: everything it
 * shows or sends came through reflection.
 */
function grpcurl(
  address: string,
  command: string[],
  options: { flags?: string[]; input?: string } = {},
): Promise<string> {
  const args = ["-plaintext", "-max-time", "20", ...(options.flags ?? []), address, ...command];
  return new Promise((resolve, reject) => {
    const child = execFile(GRPCURL, args, { timeout: 30_000 }, (error, stdout, stderr) =>
      error ? reject(new Error(`grpcurl ${args.join(" ")}: ${error.message}\n${stderr}`)) : resolve(stdout),
    );
    child.stdin?.end(options.input);
  });
}

/** grpcurl prints a stream as pretty JSON objects one after another. */
function jsonStream(output: string): Record<string, unknown>[] {
  return output
    .trim()
    .split(/\n(?=\{)/)
    .map((text) => JSON.parse(text) as Record<string, unknown>);
}

describe("gRPC server reflection, through grpcurl", () => {
  let service: ServiceProcess;
  let address: string;

  beforeAll(async () => {
    expect(existsSync(GRPCURL), `${GRPCURL} is missing: run scripts/tools install`).toBe(true);
    service = await startServiceProcess({ role: "api" });
    address = new URL(service.grpcUrl).host;
    const ready = await eventually(async () => (await fetch(`${service.httpUrl}/readyz`)).ok, 30_000);
    expect(ready, service.output()).toBe(true);
  });

  afterAll(async () => {
    await service?.stop();
  });

  it("lists every served service, health and reflection included", async () => {
    const listed = (await grpcurl(address, ["list"])).trim().split("\n");
    expect(listed).toEqual(
      expect.arrayContaining([
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
        ...SERVED_SERVICES.map((served) => served.typeName),
      ]),
    );
  });

  it("describes a method with its custom options resolved", async () => {
    const described = await grpcurl(address, ["describe", "grpc.health.v1.Health.Check"]);
    expect(described).toContain("grpc.health.v1.Health.Check is a method:");
    expect(described).toContain(
      "rpc Check ( .grpc.health.v1.HealthCheckRequest ) returns ( .grpc.health.v1.HealthCheckResponse )",
    );
    expect(described).toMatch(/option \(\.platform\.notification\.v1\.access\) = \{.+\};/);
    expect(described).toMatch(/option \(\.google\.api\.http\) = \{.+\};/);
  });

  it("describes every served service and the request of each of its methods", async () => {
    for (const served of SERVED_SERVICES) {
      const described = await grpcurl(address, ["describe", served.typeName]);
      expect(described, served.typeName).toContain(`${served.typeName} is a service:`);
      for (const method of served.methods) {
        const input = await grpcurl(address, ["describe", method.input.typeName]);
        expect(input, method.input.typeName).toContain(`${method.input.typeName} is a message:`);
      }
    }
  });

  it("calls Health.Check with JSON built from reflected descriptors", async () => {
    const answer = await grpcurl(address, ["grpc.health.v1.Health/Check"], {
      flags: ["-d", '{"service":"postgres"}'],
    });
    expect(JSON.parse(answer)).toEqual({ status: "SERVING" });
  });

  it("answers over v1alpha, keeping the stream open after a NOT_FOUND", async () => {
    // grpcurl itself asks v1 first; calling the v1alpha method by name exercises v1alpha.
    const requests = [
      { file_containing_symbol: "no.such.Symbol" },
      { list_services: "" },
      { file_containing_symbol: "grpc.health.v1.Health" },
    ];
    const output = await grpcurl(address, ["grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"], {
      flags: ["-d", "@"],
      input: requests.map((request) => JSON.stringify(request)).join("\n"),
    });
    const [missing, list, files] = jsonStream(output) as [
      { errorResponse?: { errorCode: number } },
      { listServicesResponse?: { service: { name: string }[] } },
      { fileDescriptorResponse?: { fileDescriptorProto: string[] } },
    ];
    expect(missing.errorResponse?.errorCode).toBe(5);
    expect(list.listServicesResponse?.service.map((entry) => entry.name)).toContain(
      "grpc.reflection.v1alpha.ServerReflection",
    );
    const [first] = files.fileDescriptorResponse?.fileDescriptorProto ?? [];
    expect(first && fromBinary(FileDescriptorProtoSchema, base64Decode(first)).name).toBe(
      "grpc/health/v1/health.proto",
    );
  });
});
