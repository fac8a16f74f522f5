import { type DescMessage, fromJson, type JsonValue, type MessageShape } from "@bufbuild/protobuf";
import { type DecodedEvent, dataChecker, poison, timeOf, versionOrTypePoison } from "./decoded-event.ts";

export interface StructuredEventOptions<Desc extends DescMessage> {
  /** The one CloudEvents `type` the topic carries. */
  type: string;
  /** The message of its `data`. */
  data: Desc;
  /** The largest record accepted, in bytes. */
  maxBytes: number;
}

// Required context attributes of CloudEvents 1.0 (§3.1), and the form of extension names (§3.1.1).
const REQUIRED = ["id", "source", "specversion", "type"] as const;
const ATTRIBUTE_NAME = /^[a-z0-9]{1,20}$/;

/**
 * A decoder of CloudEvents 1.0 in structured JSON mode (the spec's example): the envelope,
 * its type, and its `data` read as the contract's message and checked against its rules.
 * Never throws: what is not a valid event comes back as poison with the reason.
 */
export function structuredEventDecoder<Desc extends DescMessage>(options: StructuredEventOptions<Desc>) {
  const check = dataChecker(options.data);
  return function decode(value: Uint8Array): DecodedEvent<MessageShape<Desc>> {
    if (value.byteLength > options.maxBytes) {
      return poison(
        "oversized",
        `the record has ${value.byteLength} bytes; the limit is ${options.maxBytes}`,
      );
    }
    let envelope: JsonValue;
    try {
      envelope = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(value)) as JsonValue;
    } catch (error) {
      return poison("not_json", `not UTF-8 JSON: ${(error as Error).message}`);
    }
    if (envelope === null || typeof envelope !== "object" || Array.isArray(envelope)) {
      return poison("not_a_cloud_event", "a structured CloudEvent is a JSON object");
    }
    for (const name of REQUIRED) {
      const attribute = envelope[name];
      if (typeof attribute !== "string" || attribute === "") {
        return poison(
          "not_a_cloud_event",
          `the required attribute "${name}" is missing or not a non-empty string`,
        );
      }
    }
    const badName = Object.keys(envelope).find((name) => !ATTRIBUTE_NAME.test(name));
    if (badName !== undefined) {
      return poison("not_a_cloud_event", `"${badName.slice(0, 40)}" is not a CloudEvents attribute name`);
    }
    const refused = versionOrTypePoison(envelope.specversion, envelope.type, options.type);
    if (refused) return refused;
    const contentType = envelope.datacontenttype;
    if (
      contentType !== undefined &&
      !(typeof contentType === "string" && /^application\/json(;|$)/.test(contentType))
    ) {
      return poison(
        "invalid_payload",
        `datacontenttype ${String(contentType)}; structured events carry application/json`,
      );
    }
    const time = timeOf(envelope.time);
    if ("kind" in time) return time;
    let data: MessageShape<Desc>;
    try {
      data = fromJson(options.data, envelope.data ?? null);
    } catch (error) {
      return poison("invalid_payload", (error as Error).message);
    }
    const violations = check(data);
    if (violations.length > 0) return poison("invalid_payload", violations.join("; "));
    return {
      kind: "event",
      id: envelope.id as string,
      source: envelope.source as string,
      type: options.type,
      ...time,
      data,
    };
  };
}
