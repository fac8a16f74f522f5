import { randomUUID } from "node:crypto";
import type { MikroORM } from "@mikro-orm/postgresql";
import { afterAll, describe, expect, it } from "vitest";
import { machineCaller } from "../../../core/caller.ts";
import { DeviceManager, StoredPushTargets } from "../../../core/devices/index.ts";
import { PreferenceManager, StoredReceivePolicy } from "../../../core/preferences/index.ts";
import {
  DEFAULT_RENDER_LIMITS,
  InlineMustacheParser,
  StoredSendableTemplates,
  TemplateCatalog,
  TemplateCompiler,
} from "../../../core/templates/index.ts";
import { createOrm } from "../../../server/infrastructure.ts";
import { createLogger } from "../../../server/logger.ts";
import { DeviceRepository, PreferenceRepository, TemplateRepository } from "../../../storage/index.ts";
import { localServices } from "../../support/services.ts";

// The narrow ports the send pipeline reads through, over the real PostgreSQL stores.
const backend = machineCaller("send-read-ports-test");

describe("what sending reads, on PostgreSQL", () => {
  const orm: MikroORM = createOrm({ url: localServices().databaseUrl, poolMax: 4 }, createLogger("silent"));
  afterAll(() => orm.close(true));

  it("finds a template's active content by name in the closest locale, or says why not", async () => {
    const templates = new TemplateRepository(orm);
    const compiler = new TemplateCompiler({ parser: new InlineMustacheParser() });
    const catalog = new TemplateCatalog(templates, DEFAULT_RENDER_LIMITS, compiler);
    const sendable = new StoredSendableTemplates(templates);
    const name = `send_${randomUUID().slice(0, 8)}`;
    const template = await catalog.create(
      { name, description: "", channel: "push_fcm", defaultLanguageCode: "ru", exampleVariables: { a: 1 } },
      backend,
    );
    expect(await sendable.activeContent(`${name}_missing`, "ru")).toEqual({
      found: false,
      reason: "unknown_template",
    });
    expect(await sendable.activeContent(name, "ru")).toEqual({ found: false, reason: "no_active_version" });

    const locale = (languageCode: string, body: string) => ({
      languageCode,
      subject: "",
      body,
      bodyHtml: "",
    });
    await catalog.createVersion(template.id, [locale("ru", "v1"), locale("en", "v1 en")], backend);
    await catalog.createVersion(template.id, [locale("ru", "v2"), locale("en-GB", "v2 en")], backend);
    await catalog.activateVersion(template.id, 1, backend);
    const first = await sendable.activeContent(name, "en-US");
    expect(first).toMatchObject({ found: true, sendable: { version: 1, content: { body: "v1 en" } } });

    await catalog.activateVersion(template.id, 2, backend);
    expect(await sendable.activeContent(name, "en-US")).toMatchObject({
      found: true,
      sendable: {
        templateId: template.id,
        templateName: name,
        channel: "push_fcm",
        version: 2,
        content: { languageCode: "en-GB", body: "v2 en" },
      },
    });
    expect(await sendable.activeContent(name, "fr")).toMatchObject({ sendable: { content: { body: "v2" } } });

    // An A/B variant may send a version that is not the active one.
    expect(await sendable.versionContent(name, 1, "en-US")).toMatchObject({
      found: true,
      sendable: { version: 1, content: { body: "v1 en" } },
    });
    expect(await sendable.versionContent(name, 3, "ru")).toEqual({ found: false, reason: "unknown_version" });
    expect(await sendable.versionContent(`${name}_missing`, 1, "ru")).toEqual({
      found: false,
      reason: "unknown_template",
    });
  });

  it("decides by the user's saved preferences, or the defaults for one who never saved, for a batch of users at once", async () => {
    const store = new PreferenceRepository(orm);
    const policy = new StoredReceivePolicy(store);
    const userId = randomUUID();
    const neverSaved = randomUUID();
    const delivery = { type: "marketing", channel: "sms" as const };
    expect((await policy.of([userId]))(userId, delivery)).toEqual({ receive: true });
    await new PreferenceManager(store).update(
      {
        userId,
        settings: { globalUnsubscribe: false, channels: { sms: false }, types: {} },
        expectedRevision: 0,
      },
      backend,
    );
    // Asked in upper case: the same user; an id the store cannot keep has the defaults.
    const shouted = userId.toUpperCase();
    const receives = await policy.of([shouted, neverSaved, "crm-42"]);
    expect(receives(shouted, delivery)).toEqual({ receive: false, reason: "channel_disabled" });
    expect(receives(shouted, { ...delivery, channel: "email" })).toEqual({ receive: true });
    expect(receives(neverSaved, delivery)).toEqual({ receive: true });
    expect(receives("crm-42", delivery)).toEqual({ receive: true });
    expect([...(await store.findMany([shouted, neverSaved, "crm-42"])).keys()]).toEqual([shouted]);
  });

  it("gives the users' active devices on one platform, for a batch of users at once", async () => {
    const store = new DeviceRepository(orm);
    const devices = new DeviceManager(store);
    const targets = new StoredPushTargets(store);
    const userId = randomUUID();
    const register = (platform: "android_fcm" | "ios_apns") =>
      devices.register({ userId, platform, token: `tok-${randomUUID()}`, appVersion: "1.0" }, backend);
    const phone = await register("android_fcm");
    const tablet = await register("android_fcm");
    await register("ios_apns");
    await devices.deactivate(userId, tablet.id, backend);
    const other = randomUUID();
    const laptop = await devices.register(
      { userId: other, platform: "android_fcm", token: `tok-${randomUUID()}`, appVersion: "1.0" },
      backend,
    );
    // Seen later, in another millisecond: first in the answer.
    await new Promise((resolve) => setTimeout(resolve, 5));
    const newer = await register("android_fcm");
    const shouted = userId.toUpperCase();
    const active = await targets.of([shouted, other, randomUUID(), "crm-42"]);
    // Most recently seen first; asked in upper case, the same user.
    expect(active(shouted, "android_fcm").map((device) => device.id)).toEqual([newer.id, phone.id]);
    expect(active(shouted, "ios_apns")).toHaveLength(1);
    expect(active(other, "android_fcm").map((device) => device.id)).toEqual([laptop.id]);
    expect(active(randomUUID(), "android_fcm")).toEqual([]);
    expect(active("crm-42", "android_fcm")).toEqual([]);
  });
});
