import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import type { Validator } from "@bufbuild/protovalidate";
import { contractValidator, unstorableTextProblems } from "../mappers/index.ts";

// What every intake decoder answers, in whichever mode or encoding the record came, and the
// checks of the contract's data they all make once it is read.

/** Why a record is poison: it goes to the dead-letter topic with this reason, and is counted by it. */
export type PoisonReason =
  | "oversized"
  | "not_json"
  | "not_a_cloud_event"
  | "unsupported_specversion"
  | "unexpected_type"
  | "unsupported_content_type"
  | "not_framed"
  | "unknown_schema"
  | "schema_mismatch"
  | "invalid_payload";

export type Poison = { kind: "poison"; reason: PoisonReason; detail: string };

export type DecodedEvent<Data> =
  | { kind: "event"; id: string; source: string; type: string; time?: Date; data: Data }
  | Poison;

export function poison(reason: PoisonReason, detail: string): Poison {
  return { kind: "poison", reason, detail };
}

/**
 * The checks of an event's data once it is read as the contract's message, whatever the
 * encoding: its protovalidate rules, and text PostgreSQL could not store. Answers the problems
 * found, none for data that may go on.
 */
export function dataChecker<Desc extends DescMessage>(desc: Desc): (data: MessageShape<Desc>) => string[] {
  const validator = contractValidator();
  return (data) => [
    ...unstorableTextProblems(desc, data).map((problem) => problem.detail),
    ...violationsOf(validator.validate(desc, data)),
  ];
}

function violationsOf(result: ReturnType<Validator["validate"]>): string[] {
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

/** Poison when the event is not CloudEvents 1.0 or not of the one type the topic carries. */
export function versionOrTypePoison(
  specversion: unknown,
  type: unknown,
  expected: string,
): Poison | undefined {
  if (specversion !== "1.0") {
    return poison("unsupported_specversion", `specversion ${String(specversion)}; this service reads 1.0`);
  }
  if (type !== expected) {
    return poison("unexpected_type", `type ${String(type).slice(0, 200)}; this topic carries ${expected}`);
  }
  return undefined;
}

/** The `time` attribute, absent, or poison when it is not an RFC 3339 timestamp. */
export function timeOf(value: unknown): { time?: Date } | Poison {
  if (value === undefined) return {};
  const time = typeof value === "string" ? new Date(value) : undefined;
  if (!time || Number.isNaN(time.getTime()))
    return poison("not_a_cloud_event", "time is not an RFC 3339 timestamp");
  return { time };
}
