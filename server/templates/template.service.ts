import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { Caller } from "../../core/caller.ts";
import type {
  LocaleContent,
  Template,
  TemplateCatalog,
  TemplateDraft,
  TemplateVersion,
} from "../../core/templates/index.ts";
import {
  DeleteTemplateResponseSchema,
  ListTemplatesResponseSchema,
  ListTemplateVersionsResponseSchema,
  type LocaleContent as LocaleContentMessage,
  LocaleContentSchema,
  RenderTemplatePreviewResponseSchema,
  type Template as TemplateMessage,
  TemplateSchema,
  type TemplateService,
  TemplateVersionSchema,
} from "../../gen/platform/notification/v1/template_service_pb.ts";
import { callerKey } from "../api/caller-context.ts";
import { channelOf, protoChannelOf } from "../api/channels.ts";

const DEFAULT_PAGE_SIZE = 50;

/** TemplateService over the template catalog: each method maps the request, calls core, maps the answer. */
export function templateService(catalog: TemplateCatalog): ServiceImpl<typeof TemplateService> {
  return {
    async createTemplate(request, context) {
      return templateMessage(await catalog.create(draftOf(request.template), callerOf(context)));
    },
    async getTemplate(request) {
      return templateMessage(await catalog.get(request.templateId));
    },
    async listTemplates(request) {
      const channel = channelOf(request.channelType);
      const page = await catalog.list({
        ...(channel ? { channel } : {}),
        ...(request.namePrefix ? { namePrefix: request.namePrefix } : {}),
        ...(request.pageToken ? { pageToken: request.pageToken } : {}),
        pageSize: request.pageSize || DEFAULT_PAGE_SIZE,
      });
      return create(ListTemplatesResponseSchema, {
        templates: page.templates.map(templateMessage),
        nextPageToken: page.nextPageToken,
      });
    },
    async updateTemplate(request, context) {
      const updated = await catalog.update(
        request.templateId,
        draftOf(request.template),
        Number(request.expectedRevision),
        callerOf(context),
      );
      return templateMessage(updated);
    },
    async deleteTemplate(request, context) {
      await catalog.delete(request.templateId, Number(request.expectedRevision), callerOf(context));
      return create(DeleteTemplateResponseSchema);
    },
    async createTemplateVersion(request, context) {
      const version = await catalog.createVersion(
        request.templateId,
        request.locales.map(localeOf),
        callerOf(context),
      );
      return versionMessage(version);
    },
    async listTemplateVersions(request) {
      const versions = await catalog.listVersions(request.templateId);
      return create(ListTemplateVersionsResponseSchema, { versions: versions.map(versionMessage) });
    },
    async getTemplateVersion(request) {
      return versionMessage(await catalog.getVersion(request.templateId, request.version));
    },
    async updateTemplateVersion(request, context) {
      const version = await catalog.updateVersion(
        request.templateId,
        request.version,
        request.locales.map(localeOf),
        callerOf(context),
      );
      return versionMessage(version);
    },
    async activateTemplateVersion(request, context) {
      return versionMessage(
        await catalog.activateVersion(request.templateId, request.version, callerOf(context)),
      );
    },
    async renderTemplatePreview(request) {
      const preview = await catalog.preview(
        request.templateId,
        request.version,
        request.languageCode,
        request.variables ?? {},
      );
      return create(RenderTemplatePreviewResponseSchema, preview);
    },
  };
}

function callerOf(context: HandlerContext): Caller {
  return context.values.get(callerKey);
}

// Validation has run: a Template in a create or update request has a name, a defined channel and a language.
function draftOf(template: TemplateMessage | undefined): TemplateDraft {
  return {
    name: template?.name ?? "",
    description: template?.description ?? "",
    channel: channelOf(template?.channelType ?? 0) ?? "email",
    defaultLanguageCode: template?.defaultLanguageCode ?? "",
    exampleVariables: template?.exampleVariables ?? {},
  };
}

function localeOf(message: LocaleContentMessage): LocaleContent {
  return {
    languageCode: message.languageCode,
    subject: message.subject,
    body: message.body,
    bodyHtml: message.bodyHtml,
  };
}

function templateMessage(template: Template): TemplateMessage {
  return create(TemplateSchema, {
    id: template.id,
    name: template.name,
    description: template.description,
    channelType: protoChannelOf(template.channel),
    defaultLanguageCode: template.defaultLanguageCode,
    exampleVariables: template.exampleVariables as TemplateMessage["exampleVariables"],
    activeVersion: template.activeVersion,
    latestVersion: template.latestVersion,
    revision: BigInt(template.revision),
    createTime: timestampFromDate(template.createdAt),
    updateTime: timestampFromDate(template.updatedAt),
  });
}

function versionMessage(version: TemplateVersion) {
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
