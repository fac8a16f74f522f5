import { randomUUID } from "node:crypto";
import type { MikroORM } from "@mikro-orm/postgresql";
import { afterAll, describe, expect, it } from "vitest";
import type { Caller } from "../../../core/caller.ts";
import { DomainError } from "../../../core/errors.ts";
import {
  DEFAULT_RENDER_LIMITS,
  InlineMustacheParser,
  TemplateCatalog,
  TemplateCompiler,
  type TemplateDraft,
  type TemplateWriteCheck,
} from "../../../core/templates/index.ts";
import { createOrm } from "../../../server/infrastructure.ts";
import { createLogger } from "../../../server/logger.ts";
import { TemplateRepository } from "../../../storage/index.ts";
import { localServices } from "../../support/services.ts";

const admin: Caller = { subject: "admin-1", roles: ["admin"], via: "jwt" };

describe("TemplateRepository on PostgreSQL", () => {
  const orm: MikroORM = createOrm({ url: localServices().databaseUrl, poolMax: 10 }, createLogger("silent"));
  const repository = new TemplateRepository(orm);
  // The catalog's rules decide under the repository's lock: tested together, as they run.
  const catalog = new TemplateCatalog(
    repository,
    DEFAULT_RENDER_LIMITS,
    new TemplateCompiler({ parser: new InlineMustacheParser() }),
  );
  const anyState: TemplateWriteCheck = () => {};
  const draft = (): TemplateDraft => ({
    name: `repo_test_${randomUUID().slice(0, 8)}`,
    description: "",
    channel: "email",
    defaultLanguageCode: "ru",
    exampleVariables: {},
  });
  const locales = [{ languageCode: "ru", subject: "Тема", body: "Текст", bodyHtml: "" }];

  afterAll(() => orm.close(true));

  async function codeOf(promise: Promise<unknown>): Promise<string> {
    const error = await promise.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(DomainError);
    return (error as DomainError).entry.code;
  }

  it("numbers versions without gaps or duplicates under concurrent creation", async () => {
    const template = await repository.create(draft(), admin);
    const created = await Promise.all(
      Array.from({ length: 8 }, () => repository.addVersion(template.id, locales, admin, anyState)),
    );
    expect(created.map((version) => version.version).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect((await repository.get(template.id))?.latestVersion).toBe(8);
  });

  it("refuses a second live template with the same name, and frees the name on delete", async () => {
    const first = await repository.create(draft(), admin);
    expect(await codeOf(repository.create({ ...draft(), name: first.name }, admin))).toBe("ALREADY_EXISTS");
    await catalog.delete(first.id, first.revision, admin);
    expect(await repository.get(first.id)).toBeUndefined();
    const second = await repository.create({ ...draft(), name: first.name }, admin);
    expect(second.id).not.toBe(first.id);
  });

  it("refuses a write based on a stale revision, also when two race on the same one", async () => {
    const template = await repository.create(draft(), admin);
    const updated = await catalog.update(
      template.id,
      { ...template, description: "v2" },
      template.revision,
      admin,
    );
    expect(updated.revision).toBe(template.revision + 1);
    expect(
      await codeOf(catalog.update(template.id, { ...template, description: "v3" }, template.revision, admin)),
    ).toBe("STALE_REVISION");
    const racing = await Promise.allSettled(
      ["a", "b", "c"].map((description) =>
        catalog.update(template.id, { ...template, description }, updated.revision, admin),
      ),
    );
    expect(racing.filter((outcome) => outcome.status === "fulfilled")).toHaveLength(1);
    for (const outcome of racing) {
      if (outcome.status === "rejected")
        expect((outcome.reason as DomainError).entry.code).toBe("STALE_REVISION");
    }
  });

  it("never changes a version once it was activated, even after another one is", async () => {
    const template = await repository.create(draft(), admin);
    await catalog.createVersion(template.id, locales, admin);
    await catalog.createVersion(template.id, locales, admin);
    await catalog.activateVersion(template.id, 1, admin);
    await catalog.activateVersion(template.id, 2, admin);
    expect(await codeOf(catalog.updateVersion(template.id, 1, locales, admin))).toBe("FAILED_PRECONDITION");
    expect(await codeOf(catalog.activateVersion(template.id, 3, admin))).toBe("NOT_FOUND");
    const versions = await repository.listVersions(template.id);
    expect(
      versions.map((version) => [version.version, version.active, version.activatedAt !== null]),
    ).toEqual([
      [2, true, true],
      [1, false, true],
    ]);
  });

  it("pages through templates by name, filtered by prefix and channel", async () => {
    const prefix = `page_${randomUUID().slice(0, 6)}_`;
    for (const suffix of ["c", "a", "b", "d"])
      await repository.create({ ...draft(), name: `${prefix}${suffix}` }, admin);
    await repository.create({ ...draft(), name: `${prefix}e`, channel: "sms" }, admin);
    const first = await repository.list({ namePrefix: prefix, channel: "email", pageSize: 3 });
    expect(first.templates.map((template) => template.name)).toEqual([
      `${prefix}a`,
      `${prefix}b`,
      `${prefix}c`,
    ]);
    const second = await repository.list({
      namePrefix: prefix,
      channel: "email",
      pageSize: 3,
      pageToken: first.nextPageToken,
    });
    expect(second.templates.map((template) => template.name)).toEqual([`${prefix}d`]);
    expect(second.nextPageToken).toBe("");
    const literal = await repository.list({ namePrefix: "page\\_%", pageSize: 10 });
    expect(literal.templates).toEqual([]);
  });

  it("records each write in the audit log, in the same transaction", async () => {
    const template = await repository.create(draft(), admin);
    await repository.update(template.id, { ...template, description: "audited" }, admin, anyState);
    const rows = await orm.em.fork().getConnection().execute<
      {
        action: string;
        actor_id: string;
        before: { description: string } | null;
        after: { description: string } | null;
      }[]
    >("SELECT action, actor_id, before, after FROM audit_log WHERE resource_id = ? ORDER BY id", [
      template.id,
    ]);
    expect(
      rows.map((row) => [row.action, row.actor_id, row.before?.description ?? null, row.after?.description]),
    ).toEqual([
      ["template.create", "admin-1", null, ""],
      ["template.update", "admin-1", "", "audited"],
    ]);
  });
});
