import { ApiKeyRecord } from "./api-key.entity.ts";
import { AuditRecord } from "./audit-record.entity.ts";
import { DeviceRow } from "./devices/device-row.ts";
import { PreferenceRow } from "./preferences/preference-row.ts";
import { TemplateRow, TemplateVersionRow } from "./templates/template-rows.ts";

/** Every MikroORM entity; the ORM is built with exactly these. Append new ones here. */
export const entities = [
  AuditRecord,
  TemplateRow,
  TemplateVersionRow,
  PreferenceRow,
  DeviceRow,
  ApiKeyRecord,
];
