import { describe, expect, it } from "vitest";
import {
  StoredSendableTemplates,
  type Template,
  type TemplateStore,
  type TemplateVersion,
} from "../../../../core/templates/index.ts";

// What the send pipeline reads of templates, remembered without ever sending what changed.
function storeOf(templates: Template[], versions: TemplateVersion[]) {
  const calls = { get: 0, getByName: 0, getVersion: 0 };
  const store = {
    get: async (id: string) => {
      calls.get++;
      return templates.find((each) => each.id === id);
    },
    getByName: async (name: string) => {
      calls.getByName++;
      return templates.find((each) => each.name === name);
    },
    getVersion: async (templateId: string, version: number) => {
      calls.getVersion++;
      return versions.find((each) => each.templateId === templateId && each.version === version);
    },
  } as unknown as TemplateStore;
  return { store, calls };
}

const template = (overrides: Partial<Template> = {}): Template => ({
  id: "t-1",
  name: "welcome",
  description: "",
  channel: "email",
  defaultLanguageCode: "ru",
  exampleVariables: {},
  activeVersion: 1,
  latestVersion: 1,
  revision: 1,
  createdAt: new Date(0),
  updatedAt: new Date(0),
  ...overrides,
});
const version = (number: number, body: string): TemplateVersion =>
  ({
    templateId: "t-1",
    version: number,
    locales: [{ languageCode: "ru", subject: "", body, bodyHtml: "" }],
    active: true,
  }) as TemplateVersion;

describe("the templates a send reads", () => {
  it("ask the store for a name and a version once, then only for the template by id", async () => {
    const { store, calls } = storeOf([template()], [version(1, "v1")]);
    const sendable = new StoredSendableTemplates(store);
    for (let round = 0; round < 3; round++) {
      expect(await sendable.activeContent("welcome", "ru")).toMatchObject({
        found: true,
        sendable: { version: 1, content: { body: "v1" } },
      });
    }
    expect(calls).toEqual({ getByName: 1, getVersion: 1, get: 2 });
  });

  it("read the version again once the template's revision moved, and the name again once it was renamed", async () => {
    const templates = [template()];
    const { store, calls } = storeOf(templates, [version(1, "v1"), version(2, "v2")]);
    const sendable = new StoredSendableTemplates(store);
    await sendable.activeContent("welcome", "ru");
    templates[0] = template({ activeVersion: 2, latestVersion: 2, revision: 2 });
    expect(await sendable.activeContent("welcome", "ru")).toMatchObject({
      sendable: { content: { body: "v2" } },
    });
    expect(calls.getVersion).toBe(2);
    templates[0] = template({ name: "hello", activeVersion: 2, revision: 3 });
    expect(await sendable.activeContent("welcome", "ru")).toEqual({
      found: false,
      reason: "unknown_template",
    });
    expect(calls.getByName).toBe(2);
  });

  it("believe a name unknown only for a while: a template created under it is found after that", async () => {
    let now = 0;
    const templates: Template[] = [];
    const { store, calls } = storeOf(templates, [version(1, "v1")]);
    const sendable = new StoredSendableTemplates(store, { unknownNameTtlMs: 1_000, now: () => now });
    expect(await sendable.activeContent("welcome.sms", "ru")).toEqual({
      found: false,
      reason: "unknown_template",
    });
    templates.push(template({ name: "welcome.sms" }));
    now = 999;
    expect(await sendable.activeContent("welcome.sms", "ru")).toMatchObject({ found: false });
    expect(calls.getByName).toBe(1);
    now = 1_001;
    expect(await sendable.activeContent("welcome.sms", "ru")).toMatchObject({ found: true });
  });

  it("find a deleted template gone at once", async () => {
    const templates = [template()];
    const { store } = storeOf(templates, [version(1, "v1")]);
    const sendable = new StoredSendableTemplates(store);
    await sendable.activeContent("welcome", "ru");
    templates.pop();
    expect(await sendable.activeContent("welcome", "ru")).toEqual({
      found: false,
      reason: "unknown_template",
    });
  });
});
