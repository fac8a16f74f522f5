// How a peer misbehaves on purpose. A fault is a mode and a few fields; every peer's faults are
// checked here, each vendor naming the modes it takes and the fields of its own, because a
// fault comes over HTTP too and must be refused there with what is wrong with it.

/**
 * The modes of every peer of an HTTP API, each meaning the same there: `5xx` answers a server
 * error, `hang` never answers, `drop` cuts the connection instead of answering, `slow` answers
 * after `delayMs`, `rate-limit` answers 429. Each vendor's list starts with these.
 */
export const HTTP_FAULT_MODES = ["none", "5xx", "hang", "drop", "slow", "rate-limit"] as const;

/** One field a fault may carry besides its mode. */
export interface FaultField<V> {
  /** The modes that take it: a fault of any other mode that carries it is refused. */
  takenBy: readonly string[];
  /** Who takes it, as the refusal says: "only <takers> takes <field>". */
  takers: string;
  /** Whether a fault of those modes must carry it. */
  required?: boolean;
  /** The value, or an error that says what it should be. */
  check(value: unknown): V;
}

/** What every peer offers on its fault. */
export interface FaultControls<F> {
  fault(): F;
  setFault(fault: F): void;
}

const MAX_DELAY_MS = 60_000;
const MAX_RETRY_AFTER_SECONDS = 3600;

/** `slow`: every answer the fault governs waits this long first. */
export const delayMs: FaultField<number> = {
  takenBy: ["slow"],
  takers: "a slow peer",
  required: true,
  check: wholeNumber("a slow peer's delayMs", 1, MAX_DELAY_MS),
};

/** `rate-limit`: what Retry-After says, where the vendor sends one; each peer has its default. */
export const retryAfterSeconds: FaultField<number> = {
  takenBy: ["rate-limit"],
  takers: "rate-limit",
  check: wholeNumber("retryAfterSeconds", 0, MAX_RETRY_AFTER_SECONDS),
};

/** The fields of `F` but its mode, each with its rule. */
export type FaultFields<F> = { [K in Exclude<keyof F, "mode">]-?: FaultField<NonNullable<F[K]>> };

/**
 * The parser of one vendor's faults: `modes` in the order its refusal lists them, `fields` in
 * the order a fault shows them.
 */
export function faultParser<F extends { mode: string }>(
  modes: readonly F["mode"][],
  fields: FaultFields<F>,
): (value: unknown) => F {
  const rules = Object.entries(fields) as [string, FaultField<unknown>][];
  return (value) => {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new Error("a fault is an object with a mode");
    }
    const given = value as Record<string, unknown>;
    const unknown = Object.keys(given).filter((name) => name !== "mode" && !Object.hasOwn(fields, name));
    if (unknown.length > 0) throw new Error(`a fault has no ${unknown.join(", ")}`);
    const mode = given.mode;
    if (!(modes as readonly unknown[]).includes(mode)) {
      throw new Error(`a fault's mode is one of ${modes.join(", ")}`);
    }
    const fault: Record<string, unknown> = { mode };
    for (const [name, rule] of rules) {
      const taken = rule.takenBy.includes(mode as string);
      if (given[name] === undefined && !(taken && rule.required)) continue;
      if (!taken) throw new Error(`only ${rule.takers} takes ${name}`);
      fault[name] = rule.check(given[name]);
    }
    return fault as F;
  };
}

/** A check that a value is a whole number from `min` to `max`; `label` names it in the refusal. */
export function wholeNumber(label: string, min: number, max: number): (value: unknown) => number {
  return (value) => {
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      throw new Error(`${label} is a whole number from ${min} to ${max}`);
    }
    return value;
  };
}

/**
 * The fault in force, with its own count where it has `times`: `hit()` tells whether a request
 * meets it, and spends one of them.
 */
export class FaultSwitch<F extends { mode: string; times?: number }> {
  private readonly parse: (value: unknown) => F;
  private current: F;
  private left: number | undefined;
  private settings = 0;

  constructor(parse: (value: unknown) => F) {
    this.parse = parse;
    this.current = parse({ mode: "none" });
  }

  get(): F {
    return this.left === undefined ? this.current : { ...this.current, times: this.left };
  }

  /** Checks `value` first, whether it comes from code or over HTTP; throws what is wrong with it. */
  set(value: unknown): F {
    this.current = this.parse(value);
    this.left = this.current.times;
    this.settings += 1;
    return this.get();
  }

  /**
   * Which setting of the fault is in force, counted up by each `set`: push's `expired-token`
   * expires the credentials first seen under an earlier one. A count, not a clock: a token
   * seen and a fault set within the same millisecond are still told apart.
   */
  generation(): number {
    return this.settings;
  }

  /** The fault this request meets (`none` once its times are spent). */
  hit(): F {
    const fault = this.current;
    if (fault.mode === "none" || this.left === undefined) return fault;
    this.left -= 1;
    if (this.left <= 0) {
      this.current = this.parse({ mode: "none" });
      this.left = undefined;
    }
    return fault;
  }

  /** The switch as a peer offers it: `fault` and `setFault`, to spread into the peer. */
  asFaultControls(): FaultControls<F> {
    return {
      fault: () => this.get(),
      setFault: (fault) => {
        this.set(fault);
      },
    };
  }
}
