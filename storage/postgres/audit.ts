import type { EntityManager } from "@mikro-orm/postgresql";
import { actorOf, type Caller } from "../../core/caller.ts";
import { AuditRecord } from "./audit-record.entity.ts";

export interface AuditEntry {
  caller: Caller;
  /** What was done, e.g. "template.update". */
  action: string;
  resourceType: string;
  resourceId: string;
  before?: unknown;
  after?: unknown;
}

/**
 * Adds the audit record to the caller's unit of work, so it is written in the same
 * transaction as the change it describes: no change without its record, no record
 * of a change that rolled back.
 */
export function recordAudit(em: EntityManager, entry: AuditEntry): void {
  const actor = actorOf(entry.caller);
  em.create(AuditRecord, {
    actorType: actor.type,
    actorId: actor.id,
    action: entry.action,
    resourceType: entry.resourceType,
    resourceId: entry.resourceId,
    before: entry.before ?? null,
    after: entry.after ?? null,
    requestId: null,
  });
}
