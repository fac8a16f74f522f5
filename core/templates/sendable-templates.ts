import { BoundedMap } from "../bounded-map.ts";
import type { Channel } from "../channels.ts";
import { resolveLocale } from "./locale.ts";
import type { LocaleContent, Template, TemplateVersion } from "./template.ts";
import type { TemplateStore } from "./template-store.ts";

/** The content a send uses: the active version of a template by name, in the closest locale. */
export interface SendableContent {
  templateId: string;
  templateName: string;
  channel: Channel;
  version: number;
  content: LocaleContent;
  /** Whether its emails' opens and clicks are tracked (where tracking is configured). */
  trackingEnabled: boolean;
}

/** Why there is nothing to send: each ends the send as `failed` with this reason. */
export type UnsendableReason =
  | "unknown_template"
  | "no_active_version"
  | "unknown_version"
  | "no_content_for_locale";

export type ContentLookup =
  | { found: true; sendable: SendableContent }
  | { found: false; reason: UnsendableReason };

/** What sending reads of templates, and nothing of their administration. */
export interface SendableTemplates {
  activeContent(templateName: string, languageCode: string): Promise<ContentLookup>;
  /** The content of one version, active or not: what an A/B variant of a campaign may send. */
  versionContent(templateName: string, version: number, languageCode: string): Promise<ContentLookup>;
}

export interface SendableTemplatesOptions {
  /**
   * How long a name found to have no template is believed to have none: a template created
   * under it is sent after at most this. A channel's own template (`welcome.sms`) is looked
   * for on every send and seldom exists, so without it each chunk of sends asked the database.
   */
  unknownNameTtlMs?: number;
  /** Names remembered at most. */
  maxNames?: number;
  /** Versions' contents remembered at most (a version may hold hundreds of kilobytes). */
  maxVersions?: number;
  now?: () => number;
}

/**
 * SendableTemplates over the template store, remembering which id a name had and the content
 * of each version it read. A name's template is read again with `get`, which the store
 * serves from its invalidated cache, and must still have that name; a version's content is
 * kept under the template's revision, which every write bumps. So a change, a new active
 * version or a deletion is seen at once; only a template new under a name once unknown waits
 * up to `unknownNameTtlMs`.
 */
export class StoredSendableTemplates implements SendableTemplates {
  private readonly idsByName: BoundedMap<string, string | { unknownUntil: number }>;
  private readonly versions: BoundedMap<string, TemplateVersion>;
  private readonly unknownNameTtlMs: number;
  private readonly now: () => number;

  constructor(
    private readonly store: TemplateStore,
    options: SendableTemplatesOptions = {},
  ) {
    this.unknownNameTtlMs = options.unknownNameTtlMs ?? 1_000;
    this.idsByName = new BoundedMap(options.maxNames ?? 10_000);
    this.versions = new BoundedMap(options.maxVersions ?? 200);
    this.now = options.now ?? Date.now;
  }

  async activeContent(templateName: string, languageCode: string): Promise<ContentLookup> {
    const template = await this.templateNamed(templateName);
    if (!template) return { found: false, reason: "unknown_template" };
    if (template.activeVersion === 0) return { found: false, reason: "no_active_version" };
    const version = await this.versionOf(template, template.activeVersion);
    if (!version) return { found: false, reason: "no_active_version" };
    return this.sendable(template, version, languageCode);
  }

  async versionContent(templateName: string, number: number, languageCode: string): Promise<ContentLookup> {
    const template = await this.templateNamed(templateName);
    if (!template) return { found: false, reason: "unknown_template" };
    const version = await this.versionOf(template, number);
    if (!version) return { found: false, reason: "unknown_version" };
    return this.sendable(template, version, languageCode);
  }

  private sendable(template: Template, version: TemplateVersion, languageCode: string): ContentLookup {
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
        trackingEnabled: template.trackingEnabled ?? true,
      },
    };
  }

  private async templateNamed(name: string): Promise<Template | undefined> {
    const known = this.idsByName.get(name);
    if (typeof known === "object" && known.unknownUntil > this.now()) return undefined;
    if (typeof known === "string") {
      const template = await this.store.get(known);
      // Renamed or deleted since: the name may now be another template's, or none.
      if (template?.name === name) return template;
    }
    const template = await this.store.getByName(name);
    this.idsByName.set(name, template ? template.id : { unknownUntil: this.now() + this.unknownNameTtlMs });
    return template;
  }

  private async versionOf(template: Template, number: number): Promise<TemplateVersion | undefined> {
    const key = `${template.id}\u0000${template.revision}\u0000${number}`;
    const kept = this.versions.get(key);
    if (kept) return kept;
    const version = await this.store.getVersion(template.id, number);
    if (version) this.versions.set(key, version);
    return version;
  }
}
