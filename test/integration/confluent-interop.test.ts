import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { fromJson } from "@bufbuild/protobuf";
import { type Admin, Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AvroRecord,
  type KafkaHeaders,
  registerOurSchemas,
  SchemaRegistryClient,
  SchemaRegistryUnavailableError,
  sendRequestDecoder,
  TOPICS,
} from "../../consumers/index.ts";
import { SendRequestSchema } from "../../gen/platform/notification/events/v1/send_request_pb.ts";
import { registryCall, registryUrl, subjectPath } from "../support/schema-registry.ts";
import { localServices, REPO_ROOT } from "../support/services.ts";
import { specSendRequest } from "../support/spec-examples.ts";

// A client that is not ours: Confluent's own Python serializers (confluent-kafka, pinned by
// scripts/tools) write send requests against the real local registry (Apicurio Registry 3),
// and our intake decodes them. Subjects and the topic carry this run's prefix: the registry
// and the broker are shared.

const PYTHON = join(REPO_ROOT, ".local", "tools", "bin", "confluent-kafka-python");
const SCRIPT = join(REPO_ROOT, "test", "interop", "confluent_send_request.py");
const run = promisify(execFile);

const prefix = `test-${randomUUID()}-`;
// Our subjects are <topic>-value: the producer's topic carries the prefix, so its subject is ours.
const topic = `${prefix}${TOPICS.sendRequests}`;
const protobufSubject = `${topic}-value`;
const avroSubject = `${prefix}platform.notification.events.v1.SendRequest`;
const request = fromJson(SendRequestSchema, JSON.parse(specSendRequest));

interface Serialized {
  schemaId: number;
  value: string;
  headers: Record<string, string>;
  topic?: string;
  partition?: number;
  offset?: number;
}

async function confluent(
  mode: "protobuf" | "avro",
  options: { json?: string; args?: string[] } = {},
): Promise<Serialized> {
  const args = [
    SCRIPT,
    "--mode",
    mode,
    "--registry",
    registryUrl,
    "--topic",
    topic,
    "--subject-prefix",
    prefix,
  ];
  args.push("--json", options.json ?? specSendRequest, ...(options.args ?? []));
  // The script reports a stall itself at 40 s (a traceback on stderr, which the error carries).
  const { stdout } = await run(PYTHON, args, { timeout: 50_000 });
  return JSON.parse(stdout) as Serialized;
}

const client = new SchemaRegistryClient({ url: registryUrl });
const decode = sendRequestDecoder({ registry: client, maxBytes: 1024 * 1024 });
const record = (serialized: Serialized) => ({
  value: Buffer.from(serialized.value, "base64"),
  headers: serialized.headers as KafkaHeaders,
});
const versionsOf = async (subject: string) =>
  (await registryCall<number[]>("GET", `${subjectPath(subject)}/versions`)).body;

let ours: Map<string, number>;

beforeAll(async () => {
  ours = await registerOurSchemas(client, { subjectPrefix: prefix });
});

afterAll(async () => {
  const all = await registryCall<string[]>("GET", "/subjects");
  // Referrers first: the registry keeps a referenced version from being deleted.
  const subjects = all.body
    .filter((subject) => subject.startsWith(prefix))
    .sort((a, b) => Number(a.endsWith(".proto")) - Number(b.endsWith(".proto")));
  for (const subject of subjects) {
    for (const query of ["", "?permanent=true"])
      await registryCall("DELETE", `${subjectPath(subject)}${query}`);
  }
});

describe("send requests written by Confluent's Python serializers", () => {
  // Measured on Apicurio 3.3.3: the descriptors the serializer registers (built by buf here, by
  // protobuf-es in the service) are taken for the ones we registered at start (the same ids, no
  // new version), and the record names that id.
  it("Protobuf auto-registered by the serializer: the schema we registered", async () => {
    const serialized = await confluent("protobuf");
    expect(serialized.schemaId).toBe(ours.get(protobufSubject));
    expect(await versionsOf(protobufSubject)).toEqual([1]);
    // Its import too, registered by the serializer under the file's name before the lookup.
    expect(await versionsOf(`${prefix}buf/validate/validate.proto`)).toEqual([1]);
    expect(await decode(record(serialized))).toMatchObject({
      kind: "event",
      id: serialized.headers.ce_id,
      source: "/interop/confluent-python",
      data: request,
    });
  });

  // Measured on Apicurio 3.3.3: the committed schema as the serializer sends it (the file's
  // text, indented) is taken for the compact one we registered: the same id.
  it("Avro under the record-name subject", async () => {
    const serialized = await confluent("avro");
    expect(serialized.headers["content-type"]).toBe("application/avro");
    expect(serialized.schemaId).toBe(ours.get(avroSubject));
    expect(await decode(record(serialized))).toMatchObject({ kind: "event", data: request });
  });

  it("Avro written with a newer compatible version the producer registered (an added optional field)", async () => {
    const newer = JSON.parse(
      readFileSync(join(REPO_ROOT, "contracts", "avro", `${TOPICS.sendRequests}.avsc`), "utf8"),
    ) as AvroRecord;
    newer.fields.push({ name: "note", type: ["null", "string"], default: null });
    const dir = await mkdtemp(join(tmpdir(), "newer-avro-"));
    const file = join(dir, "send-request.avsc");
    await writeFile(file, JSON.stringify(newer));
    try {
      const json = JSON.stringify({ ...JSON.parse(specSendRequest), note: "read by nobody yet" });
      const serialized = await confluent("avro", { json, args: ["--avro-schema", file] });
      expect(serialized.schemaId).not.toBe(ours.get(avroSubject));
      expect(await versionsOf(avroSubject)).toEqual([1, 2]);
      expect(await decode(record(serialized))).toMatchObject({ kind: "event", data: request });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("a frame naming a schema id the registry never gave is poison", async () => {
    const serialized = record(await confluent("protobuf"));
    serialized.value.writeUInt32BE(0x7fff_fff0, 1);
    expect(await decode(serialized)).toMatchObject({ kind: "poison", reason: "unknown_schema" });
  });

  it("a registry that cannot be reached rejects with the retryable error, never poison", async () => {
    const serialized = record(await confluent("avro"));
    const unreachable = sendRequestDecoder({
      registry: new SchemaRegistryClient({ url: "http://127.0.0.1:9/apis/ccompat/v7", timeoutMs: 1_000 }),
      maxBytes: 1024 * 1024,
    });
    await expect(unreachable(serialized)).rejects.toBeInstanceOf(SchemaRegistryUnavailableError);
  });
});

describe("a send request produced to Kafka by confluent-kafka", () => {
  const kafka = new Kafka({
    clientId: "confluent-interop-test",
    brokers: localServices().kafkaBrokers,
    logLevel: logLevel.ERROR,
  });
  let admin: Admin;

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [{ topic, numPartitions: 1, replicationFactor: 1 }],
      waitForLeaders: true,
    });
  });
  afterAll(async () => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  it("arrives with its ce_* headers and decodes as kafkajs hands it over", async () => {
    const id = `evt-${randomUUID()}`;
    const produced = await confluent("protobuf", {
      args: ["--bootstrap", localServices().kafkaBrokers.join(","), "--id", id],
    });
    expect(produced).toMatchObject({ topic, partition: 0 });
    const consumer = kafka.consumer({ groupId: `${prefix}group`, maxWaitTimeInMs: 100 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      const { promise, resolve, reject } = Promise.withResolvers<{
        value: Buffer | null;
        headers?: KafkaHeaders;
      }>();
      // Once in CI this waited out the test's 60 s in silence: past 40 s it says how far it got.
      let joined = false;
      consumer.on(consumer.events.GROUP_JOIN, () => {
        joined = true;
      });
      const stalled = setTimeout(async () => {
        const offsets = await admin.fetchTopicOffsets(topic).catch((error: Error) => error.message);
        reject(
          new Error(`no record in 40 s; group joined: ${joined}; topic offsets: ${JSON.stringify(offsets)}`),
        );
      }, 40_000);
      await consumer.run({ eachMessage: async ({ message }) => resolve(message) });
      const message = await promise.finally(() => clearTimeout(stalled));
      expect(await decode(message)).toMatchObject({ kind: "event", id, data: request });
    } finally {
      await consumer.disconnect();
      await admin.deleteGroups([`${prefix}group`]).catch(() => undefined);
    }
  });
});
