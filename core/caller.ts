/** A role of the platform, as declared per method in the protos (access.proto). */
export type Role = "admin" | "marketer" | "support" | "service" | "user";

/** Who is calling: established once per call by authentication, read by the domain for the audit log. */
export interface Caller {
  /** The JWT's subject (a user or service id) or the API key's id. */
  subject: string;
  roles: Role[];
  via: "jwt" | "api_key" | "anonymous";
}

/** The longest subject the audit log and the records that name their creator can hold. */
export const MAX_SUBJECT_LENGTH = 255;

export const ANONYMOUS: Caller = Object.freeze({ subject: "", roles: [], via: "anonymous" as const });

/** The actor an audit record names. */
export function actorOf(caller: Caller): { type: string; id: string } {
  return { type: caller.via, id: caller.subject || "anonymous" };
}
