export { type AuditEntry, recordAudit } from "./postgres/audit.ts";
export { entities } from "./postgres/entities.ts";
