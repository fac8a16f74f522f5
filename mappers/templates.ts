import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { LocaleContent, Template, TemplateDraft, TemplateVersion } from "../core/templates/index.ts";
import {
  type LocaleContent as LocaleContentMessage,
  LocaleContentSchema,
  type Template as TemplateMessage,
  TemplateSchema,
  type TemplateVersion as TemplateVersionMessage,
  TemplateVersionSchema,
} from "../gen/platform/notification/v1/template_service_pb.ts";
import { channelOf, protoChannelOf } from "./channels.ts";

// Validation has run: a Template in a create or update request has a name, a defined channel and a language.
export function draftOf(template: TemplateMessage | undefined): TemplateDraft {
  return {
    name: template?.name ?? "",
    description: template?.description ?? "",
    channel: channelOf(template?.channelType ?? 0) ?? "email",
    defaultLanguageCode: template?.defaultLanguageCode ?? "",
    exampleVariables: template?.exampleVariables ?? {},
    trackingEnabled: template?.trackingEnabled ?? true,
  };
}

export function localeOf(message: LocaleContentMessage): LocaleContent {
  return {
    languageCode: message.languageCode,
    subject: message.subject,
    body: message.body,
    bodyHtml: message.bodyHtml,
  };
}

// A cached template is one object read many times: its message is built once, and so is the
// REST answer made from that message. Held weakly, it goes when the cache drops the template.
const MESSAGES = new WeakMap<Template, TemplateMessage>();

export function templateMessage(template: Template): TemplateMessage {
  let message = MESSAGES.get(template);
  if (!message) {
    message = newTemplateMessage(template);
    MESSAGES.set(template, message);
  }
  return message;
}

function newTemplateMessage(template: Template): TemplateMessage {
  return create(TemplateSchema, {
    id: template.id,
    name: template.name,
    description: template.description,
    channelType: protoChannelOf(template.channel),
    defaultLanguageCode: template.defaultLanguageCode,
    exampleVariables: template.exampleVariables as TemplateMessage["exampleVariables"],
    trackingEnabled: template.trackingEnabled ?? true,
    activeVersion: template.activeVersion,
    latestVersion: template.latestVersion,
    revision: BigInt(template.revision),
    createTime: timestampFromDate(template.createdAt),
    updateTime: timestampFromDate(template.updatedAt),
  });
}

export function versionMessage(version: TemplateVersion): TemplateVersionMessage {
  return create(TemplateVersionSchema, {
    templateId: version.templateId,
    version: version.version,
    locales: version.locales.map((locale) => create(LocaleContentSchema, locale)),
    active: version.active,
    ...(version.activatedAt ? { activateTime: timestampFromDate(version.activatedAt) } : {}),
    createTime: timestampFromDate(version.createdAt),
    updateTime: timestampFromDate(version.updatedAt),
  });
}
