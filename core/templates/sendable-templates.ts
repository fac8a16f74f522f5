import type { Channel } from "../channels.ts";
import { resolveLocale } from "./locale.ts";
import type { LocaleContent } from "./template.ts";
import type { TemplateStore } from "./template-store.ts";

/** The content a send uses: the active version of a template by name, in the closest locale. */
export interface SendableContent {
  templateId: string;
  templateName: string;
  channel: Channel;
  version: number;
  content: LocaleContent;
}

/** Why there is nothing to send: each ends the send as `failed` with this reason. */
export type UnsendableReason = "unknown_template" | "no_active_version" | "no_content_for_locale";

export type ContentLookup =
  | { found: true; sendable: SendableContent }
  | { found: false; reason: UnsendableReason };

/** What sending reads of templates, and nothing of their administration. */
export interface SendableTemplates {
  activeContent(templateName: string, languageCode: string): Promise<ContentLookup>;
}

/** SendableTemplates over the template store. */
export class StoredSendableTemplates implements SendableTemplates {
  constructor(private readonly store: TemplateStore) {}

  async activeContent(templateName: string, languageCode: string): Promise<ContentLookup> {
    const template = await this.store.getByName(templateName);
    if (!template) return { found: false, reason: "unknown_template" };
    if (template.activeVersion === 0) return { found: false, reason: "no_active_version" };
    const version = await this.store.getVersion(template.id, template.activeVersion);
    if (!version) return { found: false, reason: "no_active_version" };
    const content = resolveLocale(version.locales, languageCode, template.defaultLanguageCode);
    if (!content) return { found: false, reason: "no_content_for_locale" };
    return {
      found: true,
      sendable: {
        templateId: template.id,
        templateName: template.name,
        channel: template.channel,
        version: version.version,
        content,
      },
    };
  }
}
