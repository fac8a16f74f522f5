import { type DescMessage, fromJson, type JsonValue, type MessageShape } from "@bufbuild/protobuf";
import { createValidator } from "@bufbuild/protovalidate";
import { unstorableTextProblems } from "../mappers/index.ts";

/** Why a record is poison: it goes to the dead-letter topic with this reason, and is counted by it. */
export type PoisonReason =
  | "oversized"
  | "not_json"
  | "not_a_cloud_event"
  | "unsupported_specversion"
  | "unexpected_type"
  | "invalid_payload";

export type DecodedEvent<Data> =
  | { kind: "event"; id: string; source: string; type: string; time?: Date; data: Data }
  | { kind: "poison"; reason: PoisonReason; detail: string };

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
  const validator = createValidator();
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
    if (envelope.specversion !== "1.0") {
      return poison(
        "unsupported_specversion",
        `specversion ${String(envelope.specversion)}; this service reads 1.0`,
      );
    }
    if (envelope.type !== options.type) {
      return poison(
        "unexpected_type",
        `type ${String(envelope.type).slice(0, 200)}; this topic carries ${options.type}`,
      );
    }
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
    let time: Date | undefined;
    if (envelope.time !== undefined) {
      time = typeof envelope.time === "string" ? new Date(envelope.time) : undefined;
      if (!time || Number.isNaN(time.getTime()))
        return poison("not_a_cloud_event", "time is not an RFC 3339 timestamp");
    }
    let data: MessageShape<Desc>;
    try {
      data = fromJson(options.data, envelope.data ?? null);
    } catch (error) {
      return poison("invalid_payload", (error as Error).message);
    }
    const violations = [
      ...unstorableTextProblems(options.data, data).map((problem) => problem.detail),
      ...violationsOf(validator.validate(options.data, data)),
    ];
    if (violations.length > 0) return poison("invalid_payload", violations.join("; "));
    return {
      kind: "event",
      id: envelope.id as string,
      source: envelope.source as string,
      type: options.type,
      ...(time ? { time } : {}),
      data,
    };
  };
}

function violationsOf(result: ReturnType<ReturnType<typeof createValidator>["validate"]>): string[] {
  if (result.kind === "valid") return [];
  if (result.kind === "error") return [`the rules could not be checked: ${result.error.message}`];
  return result.violations.map((violation) => {
    const path = violation.field
      .map((element) =>
        element.kind === "list_sub" ? `[${element.index}]` : `.${"name" in element ? element.name : ""}`,
      )
      .join("")
      .replace(/^\./, "");
    return `${path || "data"}: ${violation.message}`;
  });
}

function poison(
  reason: PoisonReason,
  detail: string,
): { kind: "poison"; reason: PoisonReason; detail: string } {
  return { kind: "poison", reason, detail };
}
