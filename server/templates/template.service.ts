import { create } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { Caller } from "../../core/caller.ts";
import type { TemplateCatalog } from "../../core/templates/index.ts";
import {
  DeleteTemplateResponseSchema,
  ListTemplatesResponseSchema,
  ListTemplateVersionsResponseSchema,
  RenderTemplatePreviewResponseSchema,
  type TemplateService,
} from "../../gen/platform/notification/v1/template_service_pb.ts";
import { channelOf, draftOf, localeOf, templateMessage, versionMessage } from "../../mappers/index.ts";
import { callerKey } from "../api/caller-context.ts";

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
