import { AuditRecord } from "./audit-record.entity.ts";

/** Every MikroORM entity; the ORM is built with exactly these. Append new ones here. */
export const entities = [AuditRecord];
