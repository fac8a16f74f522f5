"""A send request serialized by Confluent's own Python serializers (confluent-kafka), a client
that is not ours, against a schema registry, then printed or produced to Kafka as a binary-mode
CloudEvent (ce_* headers, content-type).

  confluent-kafka-python test/interop/confluent_send_request.py --mode protobuf|avro \\
      --registry URL --topic T --json '<SendRequest as proto3 JSON>' \\
      [--bootstrap HOST:PORT] [--subject-prefix P] [--avro-schema FILE] [--id CE_ID]

Without --bootstrap it prints {"schemaId", "value" (base64), "headers"}; with it, it produces
the record and prints its topic, partition and offset too. The Protobuf class is built from our
protos with buf (node_modules/.bin/buf, no protoc), the way generated code would carry it; the
Avro writer schema is contracts/avro unless --avro-schema names another (a newer version).
"""

import argparse
import base64
import datetime
import faulthandler
import json
import os
import subprocess
import sys
import uuid

# The well-known types go into the default pool from the protobuf package itself; our files
# that import them are added beside them.
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory
from google.protobuf import duration_pb2, field_mask_pb2, struct_pb2, timestamp_pb2  # noqa: F401

from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.schema_registry.protobuf import ProtobufSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SEND_REQUEST = "platform.notification.events.v1.SendRequest"
CE_TYPE = "com.platform.notification.send.request.v1"
AVRO_SCHEMA = os.path.join(ROOT, "contracts", "avro", CE_TYPE + ".avsc")


def send_request_class():
    built = subprocess.run(
        [os.path.join(ROOT, "node_modules", ".bin", "buf"), "build", "-o", "-",
         "--path", "proto/platform/notification/events/v1/send_request.proto"],
        cwd=ROOT, check=True, capture_output=True,
    ).stdout
    files = descriptor_pb2.FileDescriptorSet.FromString(built).file
    pool = descriptor_pool.Default()
    for file in files:
        if not file.name.startswith("google/protobuf/"):
            pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(SEND_REQUEST))


def avro_value(schema, value, names):
    """The proto3 JSON value as the Avro datum of our mapping (consumers/avro/avro-schema.ts)."""
    if isinstance(schema, list):
        if value is None:
            return None
        return avro_value(next(branch for branch in schema if branch != "null"), value, names)
    if isinstance(schema, str) and schema in names:
        schema = names[schema]
    if isinstance(schema, dict):
        kind = schema["type"]
        if kind == "record":
            names[schema["namespace"] + "." + schema["name"]] = schema
            record = {}
            for field in schema["fields"]:
                if field["name"] in value:
                    record[field["name"]] = avro_value(field["type"], value[field["name"]], names)
            return record
        if kind == "array":
            return [avro_value(schema["items"], item, names) for item in value]
        if schema.get("logicalType") == "timestamp-micros":
            return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        return avro_value(kind, value, names)
    # google.protobuf.Struct is carried as its JSON text.
    if schema == "string" and isinstance(value, (dict, list)):
        return json.dumps(value)
    return value


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=["protobuf", "avro"], required=True)
    parser.add_argument("--registry", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--json", required=True, help="the SendRequest, proto3 JSON")
    parser.add_argument("--bootstrap")
    parser.add_argument("--subject-prefix", default="",
                        help="before the reference and record-name subjects, to keep test runs apart")
    parser.add_argument("--avro-schema", default=AVRO_SCHEMA)
    parser.add_argument("--id", default=None, help="ce_id; a new UUID when absent")
    parser.add_argument("--source", default="/interop/confluent-python")
    args = parser.parse_args()
    # Twice in CI this script (or the consumer after it) waited out the test's 60 s with nothing
    # said; a process still here after 40 s prints where each thread stands and exits.
    faulthandler.dump_traceback_later(40, exit=True)

    # The client has no timeout by default: a call the registry never answers would wait for
    # ever. With one, a stuck call is a transport error, which the client retries (max.retries).
    registry = SchemaRegistryClient({"url": args.registry, "timeout": 5})
    request = json.loads(args.json)
    context = SerializationContext(args.topic, MessageField.VALUE)
    if args.mode == "protobuf":
        send_request = send_request_class()
        # Registering is the serializer's default. Its use.latest.version does not work against
        # Apicurio 3.3.3 for Protobuf: the ?format=serialized it asks for fails (500) for a
        # serialized descriptor and corrupts a .proto text.
        serializer = ProtobufSerializer(send_request, registry, {
            # Their default, the imported file's name, with the prefix of this run.
            "reference.subject.name.strategy": lambda ctx, file: args.subject_prefix + file.name,
        })
        message = json_format.Parse(args.json, send_request())
        value = serializer(message, context)
        content_type = "application/protobuf"
    else:
        with open(args.avro_schema) as file:
            schema_text = file.read()
        serializer = AvroSerializer(registry, schema_text, lambda datum, ctx: datum, {
            # RecordNameStrategy: an Avro schema cannot share <topic>-value with the Protobuf one.
            "subject.name.strategy": lambda ctx, record_name: args.subject_prefix + record_name,
        })
        value = serializer(avro_value(json.loads(schema_text), request, {}), context)
        content_type = "application/avro"

    headers = {
        "ce_specversion": "1.0",
        "ce_id": args.id or str(uuid.uuid4()),
        "ce_source": args.source,
        "ce_type": CE_TYPE,
        "ce_time": datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z"),
        "content-type": content_type,
    }
    out = {
        "schemaId": int.from_bytes(value[1:5], "big"),
        "value": base64.b64encode(value).decode(),
        "headers": headers,
    }
    if args.bootstrap:
        from confluent_kafka import Producer

        delivered = {}

        def on_delivery(error, record):
            if error is not None:
                raise SystemExit("not delivered: %s" % error)
            delivered.update(topic=record.topic(), partition=record.partition(), offset=record.offset())

        producer = Producer({"bootstrap.servers": args.bootstrap, "enable.idempotence": True})
        producer.produce(args.topic, value=value, key=request.get("requestId", "").encode(),
                         headers=list(headers.items()), on_delivery=on_delivery)
        if producer.flush(30) != 0:
            raise SystemExit("the record was not delivered within 30 s")
        out.update(delivered)
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
