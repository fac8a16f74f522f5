import { defineEntity, p } from "@mikro-orm/core";

/** A row of audit_log (migration 0001): one admin write, with the state before and after. */
export const AuditRecord = defineEntity({
  name: "AuditRecord",
  tableName: "audit_log",
  properties: {
    id: p.bigint("number").primary().autoincrement(),
    occurredAt: p.datetime().onCreate(() => new Date()),
    actorType: p.string().length(32),
    actorId: p.string().length(255),
    action: p.string().length(128),
    resourceType: p.string().length(64),
    resourceId: p.string().length(255),
    before: p.json<unknown>().nullable(),
    after: p.json<unknown>().nullable(),
    requestId: p.string().length(128).nullable(),
  },
});
