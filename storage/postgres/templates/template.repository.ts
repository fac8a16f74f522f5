import { randomUUID } from "node:crypto";
import { LockMode, type MikroORM, UniqueConstraintViolationException } from "@mikro-orm/core";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { Caller } from "../../../core/caller.ts";
import { DomainError, ErrorCatalog } from "../../../core/errors.ts";
import type {
  LocaleContent,
  Template,
  TemplateDraft,
  TemplateFilter,
  TemplatePage,
  TemplateStore,
  TemplateVersion,
  TemplateWriteCheck,
  VersionWriteCheck,
} from "../../../core/templates/index.ts";
import { recordAudit } from "../audit.ts";
import { TemplateRow, TemplateVersionRow } from "./template-rows.ts";

type TemplateEntity = InstanceType<typeof TemplateRow.class>;
type VersionEntity = InstanceType<typeof TemplateVersionRow.class>;

/** TemplateStore on PostgreSQL through MikroORM; each call works in its own fork of the entity manager. */
export class TemplateRepository implements TemplateStore {
  constructor(private readonly orm: MikroORM) {}

  private em(): EntityManager {
    return this.orm.em.fork() as EntityManager;
  }

  async create(draft: TemplateDraft, caller: Caller): Promise<Template> {
    const now = new Date();
    return this.write(async (em) => {
      const row = em.create(TemplateRow, {
        id: randomUUID(),
        ...rowFields(draft),
        activeVersion: 0,
        latestVersion: 0,
        revision: 1,
        createdAt: now,
        updatedAt: now,
        deletedAt: null,
      });
      const created = templateOf(row);
      recordAudit(em, {
        caller,
        action: "template.create",
        resourceType: "template",
        resourceId: row.id,
        after: created,
      });
      return created;
    });
  }

  async get(id: string): Promise<Template | undefined> {
    const row = await this.em().findOne(TemplateRow, { id, deletedAt: null });
    return row ? templateOf(row) : undefined;
  }

  async getByName(name: string): Promise<Template | undefined> {
    const row = await this.em().findOne(TemplateRow, { name, deletedAt: null });
    return row ? templateOf(row) : undefined;
  }

  async list(filter: TemplateFilter): Promise<TemplatePage> {
    const after = filter.pageToken ? nameOfPageToken(filter.pageToken) : undefined;
    const name: Record<string, string> = {};
    if (filter.namePrefix) name.$like = `${escapeLike(filter.namePrefix)}%`;
    if (after !== undefined) name.$gt = after;
    const rows = await this.em().find(
      TemplateRow,
      {
        deletedAt: null,
        ...(filter.channel ? { channelType: filter.channel } : {}),
        ...(Object.keys(name).length > 0 ? { name } : {}),
      },
      { orderBy: { name: "asc" }, limit: filter.pageSize + 1 },
    );
    const page = rows.slice(0, filter.pageSize);
    const last = page.at(-1);
    return {
      templates: page.map(templateOf),
      nextPageToken: rows.length > filter.pageSize && last ? pageTokenOf(last.name) : "",
    };
  }

  async update(
    id: string,
    draft: TemplateDraft,
    caller: Caller,
    check: TemplateWriteCheck,
  ): Promise<Template> {
    return this.write(async (em) => {
      const row = await this.lockTemplate(em, id, check);
      const before = templateOf(row);
      em.assign(row, { ...rowFields(draft), revision: row.revision + 1, updatedAt: new Date() });
      const after = templateOf(row);
      recordAudit(em, {
        caller,
        action: "template.update",
        resourceType: "template",
        resourceId: id,
        before,
        after,
      });
      return after;
    });
  }

  async delete(id: string, caller: Caller, check: TemplateWriteCheck): Promise<void> {
    await this.write(async (em) => {
      const row = await this.lockTemplate(em, id, check);
      const before = templateOf(row);
      em.assign(row, { deletedAt: new Date(), revision: row.revision + 1, updatedAt: new Date() });
      recordAudit(em, {
        caller,
        action: "template.delete",
        resourceType: "template",
        resourceId: id,
        before,
      });
    });
  }

  async addVersion(
    templateId: string,
    locales: LocaleContent[],
    caller: Caller,
    check: TemplateWriteCheck,
  ): Promise<TemplateVersion> {
    return this.write(async (em) => {
      const template = await this.lockTemplate(em, templateId, check);
      const now = new Date();
      const version = template.latestVersion + 1;
      em.assign(template, { latestVersion: version, revision: template.revision + 1, updatedAt: now });
      const row = em.create(TemplateVersionRow, {
        templateId,
        version,
        locales,
        activatedAt: null,
        createdAt: now,
        updatedAt: now,
      });
      const created = versionOf(row, template.activeVersion);
      recordAudit(em, {
        caller,
        action: "template.version.create",
        resourceType: "template",
        resourceId: templateId,
        after: created,
      });
      return created;
    });
  }

  async listVersions(templateId: string): Promise<TemplateVersion[]> {
    const em = this.em();
    const template = await em.findOne(TemplateRow, { id: templateId, deletedAt: null });
    if (!template) return [];
    const rows = await em.find(TemplateVersionRow, { templateId }, { orderBy: { version: "desc" } });
    return rows.map((row) => versionOf(row, template.activeVersion));
  }

  async getVersion(templateId: string, version: number): Promise<TemplateVersion | undefined> {
    const em = this.em();
    const template = await em.findOne(TemplateRow, { id: templateId, deletedAt: null });
    if (!template) return undefined;
    const row = await em.findOne(TemplateVersionRow, { templateId, version });
    return row ? versionOf(row, template.activeVersion) : undefined;
  }

  async replaceVersion(
    templateId: string,
    version: number,
    locales: LocaleContent[],
    caller: Caller,
    check: VersionWriteCheck,
  ): Promise<TemplateVersion> {
    return this.write(async (em) => {
      const { template, row } = await this.lockVersion(em, templateId, version, check);
      const before = versionOf(row, template.activeVersion);
      em.assign(row, { locales, updatedAt: new Date() });
      em.assign(template, { revision: template.revision + 1, updatedAt: new Date() });
      const after = versionOf(row, template.activeVersion);
      recordAudit(em, {
        caller,
        action: "template.version.update",
        resourceType: "template",
        resourceId: templateId,
        before,
        after,
      });
      return after;
    });
  }

  async activateVersion(
    templateId: string,
    version: number,
    caller: Caller,
    check: VersionWriteCheck,
  ): Promise<TemplateVersion> {
    return this.write(async (em) => {
      const { template, row } = await this.lockVersion(em, templateId, version, check);
      const now = new Date();
      const before = { activeVersion: template.activeVersion };
      em.assign(template, { activeVersion: version, revision: template.revision + 1, updatedAt: now });
      if (!row.activatedAt) em.assign(row, { activatedAt: now, updatedAt: now });
      recordAudit(em, {
        caller,
        action: "template.version.activate",
        resourceType: "template",
        resourceId: templateId,
        before,
        after: { activeVersion: version },
      });
      return versionOf(row, version);
    });
  }

  /** Runs `work` in one transaction, turning a taken name into ALREADY_EXISTS. */
  private async write<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    try {
      return await this.em().transactional((em) => work(em as EntityManager));
    } catch (error) {
      if (error instanceof UniqueConstraintViolationException) {
        throw new DomainError(ErrorCatalog.alreadyExists, "a template with this name already exists", {
          pointer: "/template/name",
        });
      }
      throw error;
    }
  }

  /** The template, locked for the rest of the transaction, once `check` let the write go on. */
  private async lockTemplate(
    em: EntityManager,
    id: string,
    check: TemplateWriteCheck,
  ): Promise<TemplateEntity> {
    const row = await em.findOne(
      TemplateRow,
      { id, deletedAt: null },
      { lockMode: LockMode.PESSIMISTIC_WRITE },
    );
    check(row ? templateOf(row) : undefined);
    if (!row) throw new Error(`the write check let a write to missing template ${id} through`);
    return row;
  }

  private async lockVersion(
    em: EntityManager,
    templateId: string,
    version: number,
    check: VersionWriteCheck,
  ): Promise<{ template: TemplateEntity; row: VersionEntity }> {
    const template = await em.findOne(
      TemplateRow,
      { id: templateId, deletedAt: null },
      { lockMode: LockMode.PESSIMISTIC_WRITE },
    );
    const row = template ? await em.findOne(TemplateVersionRow, { templateId, version }) : null;
    check(
      template ? templateOf(template) : undefined,
      row && template ? versionOf(row, template.activeVersion) : undefined,
    );
    if (!template || !row) {
      throw new Error(`the write check let a write to missing version ${version} of ${templateId} through`);
    }
    return { template, row };
  }
}

function rowFields(draft: TemplateDraft) {
  return {
    name: draft.name,
    description: draft.description,
    channelType: draft.channel,
    defaultLanguageCode: draft.defaultLanguageCode,
    exampleVariables: draft.exampleVariables,
    trackingEnabled: draft.trackingEnabled ?? true,
  };
}

function templateOf(row: TemplateEntity): Template {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    channel: row.channelType,
    defaultLanguageCode: row.defaultLanguageCode,
    exampleVariables: row.exampleVariables,
    trackingEnabled: row.trackingEnabled,
    activeVersion: row.activeVersion,
    latestVersion: row.latestVersion,
    revision: row.revision,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

function versionOf(row: VersionEntity, activeVersion: number): TemplateVersion {
  return {
    templateId: row.templateId,
    version: row.version,
    locales: row.locales,
    activatedAt: row.activatedAt ?? null,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    active: row.version === activeVersion,
  };
}

// Keyset pagination by name: the token is the last name of the page, opaque to clients.
function pageTokenOf(name: string): string {
  return Buffer.from(JSON.stringify({ after: name })).toString("base64url");
}

function nameOfPageToken(token: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as { after?: unknown };
    if (typeof parsed.after === "string") return parsed.after;
  } catch {
    // falls through to the error below
  }
  throw new DomainError(ErrorCatalog.validation, "page_token is not one this service gave", {
    pointer: "/page_token",
  });
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (char) => `\\${char}`);
}
