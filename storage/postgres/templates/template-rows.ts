import { defineEntity, p } from "@mikro-orm/core";
import type { Channel } from "../../../core/channels.ts";
import type { LocaleContent, Variables } from "../../../core/templates/index.ts";

/** notification_templates (migration 0002). */
export const TemplateRow = defineEntity({
  name: "TemplateRow",
  tableName: "notification_templates",
  properties: {
    id: p.uuid().primary(),
    name: p.string().length(128),
    description: p.text(),
    channelType: p.string().length(16).$type<Channel>(),
    defaultLanguageCode: p.string().length(35),
    exampleVariables: p.json<Variables>(),
    // Migration 0016.
    trackingEnabled: p.boolean(),
    activeVersion: p.integer(),
    latestVersion: p.integer(),
    revision: p.bigint("number"),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
    deletedAt: p.datetime().nullable(),
  },
});

/** notification_template_versions (migration 0002). */
export const TemplateVersionRow = defineEntity({
  name: "TemplateVersionRow",
  tableName: "notification_template_versions",
  properties: {
    templateId: p.uuid().primary(),
    version: p.integer().primary(),
    locales: p.json<LocaleContent[]>(),
    activatedAt: p.datetime().nullable(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  },
});
