export { type AuditEntry, recordAudit } from "./postgres/audit.ts";
export { entities } from "./postgres/entities.ts";
export { TemplateRepository } from "./postgres/templates/template.repository.ts";
