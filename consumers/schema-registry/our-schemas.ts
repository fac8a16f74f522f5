import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type DescFile, type DescMessage, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { MessageStatusUpdatedSchema } from "../../gen/platform/notification/events/v1/message_status_updated_pb.ts";
import { SendRequestSchema } from "../../gen/platform/notification/events/v1/send_request_pb.ts";
import type { AvroRecord } from "../avro/index.ts";
import { TOPICS } from "../topics.ts";
import type { SchemaReference, SchemaRegistryClient } from "./registry-client.ts";

export interface RegisterOptions {
  /**
   * Put before every subject name, so that runs sharing one registry (tests) do not meet;
   * empty in the service.
   */
  subjectPrefix?: string;
}

const EVENTS: { topic: string; type: string; message: DescMessage }[] = [
  {
    topic: TOPICS.sendRequests,
    type: "com.platform.notification.send.request.v1",
    message: SendRequestSchema,
  },
  {
    topic: TOPICS.events,
    type: "com.platform.notification.message.status.updated.v1",
    message: MessageStatusUpdatedSchema,
  },
];

/**
 * Registers the Protobuf and Avro schemas of the events we read and write, where Confluent's
 * serializers look them up:
 *
 * - Protobuf under `<topic>-value` (TopicNameStrategy, every serializer's default), as the
 *   base64 serialized FileDescriptorProto that Confluent's Python and Go serializers register:
 *   Apicurio then answers such a producer our id instead of adding a version (measured with
 *   confluent-kafka 2.16.1 on Apicurio 3.3.3), and gives it back as it was registered, which
 *   they can parse; the `?format=serialized` they would need for .proto text comes back
 *   unusable there (the raw bytes in a JSON string, the validate options dropped). Each
 *   import is a reference to a subject named after its file (`buf/validate/validate.proto`,
 *   their default reference subject strategy); google/protobuf/* files are known to the registry.
 * - Avro under the record's full name (RecordNameStrategy, `platform.notification.events.v1.SendRequest`):
 *   a subject holds one schema type, and Apicurio refuses an Avro schema in a Protobuf subject
 *   with 422. An Avro producer sets `value.subject.name.strategy` to the record-name strategy.
 *   (A Protobuf producer on the record-name strategy would look in the same subject: ours stays
 *   on the topic's.)
 *
 * Every subject is kept BACKWARD: a reader of the newest schema reads all older data.
 *
 * Called at worker start: registering what is there already is a no-op of the registry, which
 * answers the same ids. Answers the id of each schema by its subject.
 */
export async function registerOurSchemas(
  client: SchemaRegistryClient,
  options: RegisterOptions = {},
): Promise<Map<string, number>> {
  const prefix = options.subjectPrefix ?? "";
  const ids = new Map<string, number>();
  const register = async (
    subject: string,
    schema: string,
    type: "AVRO" | "PROTOBUF",
    references: SchemaReference[] = [],
  ): Promise<number> => {
    const { id, version } = await client.register(subject, schema, type, references);
    await client.setCompatibility(subject, "BACKWARD");
    ids.set(subject, id);
    return version;
  };
  const imported = new Map<string, Promise<SchemaReference>>();
  // Depth first, each file once: the references of a file are its imports' subjects and versions.
  const referencesOf = (file: DescFile): Promise<SchemaReference[]> =>
    Promise.all(
      file.dependencies
        .filter((dependency) => !dependency.proto.name.startsWith("google/protobuf/"))
        .map((dependency) => {
          const name = dependency.proto.name;
          let reference = imported.get(name);
          if (!reference) {
            reference = referencesOf(dependency).then(async (references) => ({
              name,
              subject: `${prefix}${name}`,
              version: await register(`${prefix}${name}`, serialized(dependency), "PROTOBUF", references),
            }));
            imported.set(name, reference);
          }
          return reference;
        }),
    );
  for (const event of EVENTS) {
    const file = event.message.file;
    await register(
      `${prefix}${protobufSubjectOf(event.topic)}`,
      serialized(file),
      "PROTOBUF",
      await referencesOf(file),
    );
    const avro = avroSchemaOf(event.type);
    await register(`${prefix}${avroSubjectOf(avro)}`, JSON.stringify(avro), "AVRO");
  }
  return ids;
}

/** The subject of a topic's Protobuf value schema, and of an Avro record's schema. */
export const protobufSubjectOf = (topic: string): string => `${topic}-value`;
export const avroSubjectOf = (record: AvroRecord): string => `${record.namespace}.${record.name}`;

function serialized(file: DescFile): string {
  return Buffer.from(toBinary(FileDescriptorProtoSchema, file.proto)).toString("base64");
}

/** The committed schema (contracts/avro), docs included, which `npm run gen` keeps in step with the proto. */
function avroSchemaOf(type: string): AvroRecord {
  return JSON.parse(
    readFileSync(join(packageRoot(), "contracts", "avro", `${type}.avsc`), "utf8"),
  ) as AvroRecord;
}

/** The folder of our package.json: contracts/ sits beside it whether we run from consumers/ or dist/. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  return dir;
}
