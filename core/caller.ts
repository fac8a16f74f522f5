/** A role of the platform, as declared per method in the protos (access.proto). */
export type Role = "admin" | "marketer" | "support" | "service" | "user";

/**
 * Who is calling: established once per call by authentication, or named by the process
 * for work no request carries (a Kafka message, a scheduled job); read by the domain for
 * its rules and the audit log.
 */
export interface Caller {
  /** The JWT's subject (a user or service id), the API key's id, or what the machine work is. */
  subject: string;
  roles: Role[];
  via: "jwt" | "api_key" | "anonymous" | "machine";
}

/** The longest subject the audit log and the records that name their creator can hold. */
export const MAX_SUBJECT_LENGTH = 255;

export const ANONYMOUS: Caller = Object.freeze({ subject: "", roles: [], via: "anonymous" as const });

/**
 * The service itself acting for work that arrived without credentials of its own, e.g.
 * `machineCaller("kafka:com.platform.notification.send.request.v1")`: the producer was
 * trusted by the topic's ACLs, so it acts with the `service` role.
 */
export function machineCaller(work: string): Caller {
  if (work === "" || work.length > MAX_SUBJECT_LENGTH) {
    throw new Error(`a machine caller needs a name of 1 to ${MAX_SUBJECT_LENGTH} characters, got "${work}"`);
  }
  const caller: Caller = { subject: work, roles: ["service"], via: "machine" };
  return Object.freeze(caller);
}

/** The actor an audit record names. */
export function actorOf(caller: Caller): { type: string; id: string } {
  return { type: caller.via, id: caller.subject || "anonymous" };
}
