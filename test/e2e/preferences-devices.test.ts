import { randomUUID } from "node:crypto";
import { fromJson, type JsonObject, toJson } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { MikroORM } from "@mikro-orm/postgresql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DeleteDeviceResponseSchema,
  DeviceSchema,
  DeviceService,
  ListDevicesResponseSchema,
  RegisterDeviceRequestSchema,
} from "../../gen/platform/notification/v1/device_service_pb.ts";
import { ErrorDetailSchema } from "../../gen/platform/notification/v1/errors_pb.ts";
import {
  PreferenceService,
  UserPreferencesSchema,
} from "../../gen/platform/notification/v1/preference_service_pb.ts";
import { AUTH_ENV, authHeaders, authInterceptor } from "../support/credentials.ts";
import { eventually, type ServiceProcess, startServiceProcess } from "../support/service-process.ts";
import { localServices } from "../support/services.ts";
import { JSON_OPTIONS, type Outcome, outcomeOf, restCaller } from "../support/surfaces.ts";

const API = "/api/v1/notifications";

/** One way of calling the two services; every answer is proto JSON with proto field names, or an error code. */
interface Api {
  getPreferences(userId: string): Promise<Outcome>;
  updatePreferences(userId: string, preferences: JsonObject, expectedRevision: number): Promise<Outcome>;
  registerDevice(userId: string, device: JsonObject): Promise<Outcome>;
  listDevices(userId: string): Promise<Outcome>;
  deactivateDevice(userId: string, deviceId: string): Promise<Outcome>;
  deleteDevice(userId: string, deviceId: string): Promise<Outcome>;
}

function rpcApi(transport: Transport): Api {
  const preferences = createClient(PreferenceService, transport);
  const devices = createClient(DeviceService, transport);
  return {
    getPreferences: (userId) =>
      outcomeOf(async () =>
        toJson(UserPreferencesSchema, await preferences.getUserPreferences({ userId }), JSON_OPTIONS),
      ),
    updatePreferences: (userId, json, expectedRevision) =>
      outcomeOf(async () => {
        const answer = await preferences.updateUserPreferences({
          userId,
          preferences: fromJson(UserPreferencesSchema, json),
          expectedRevision: BigInt(expectedRevision),
        });
        return toJson(UserPreferencesSchema, answer, JSON_OPTIONS);
      }),
    registerDevice: (userId, json) =>
      outcomeOf(async () => {
        const answer = await devices.registerDevice(
          fromJson(RegisterDeviceRequestSchema, { ...json, user_id: userId }),
        );
        return toJson(DeviceSchema, answer, JSON_OPTIONS);
      }),
    listDevices: (userId) =>
      outcomeOf(async () =>
        toJson(ListDevicesResponseSchema, await devices.listDevices({ userId }), JSON_OPTIONS),
      ),
    deactivateDevice: (userId, deviceId) =>
      outcomeOf(async () =>
        toJson(DeviceSchema, await devices.deactivateDevice({ userId, deviceId }), JSON_OPTIONS),
      ),
    deleteDevice: (userId, deviceId) =>
      outcomeOf(async () =>
        toJson(DeleteDeviceResponseSchema, await devices.deleteDevice({ userId, deviceId }), JSON_OPTIONS),
      ),
  };
}

function restApi(baseUrl: string): Api {
  const call = restCaller(baseUrl, authHeaders());
  return {
    getPreferences: (userId) => call("GET", `/preferences/users/${userId}`),
    updatePreferences: (userId, json, expectedRevision) =>
      call("PUT", `/preferences/users/${userId}`, json, { "if-match": `"${expectedRevision}"` }),
    registerDevice: (userId, json) => call("POST", `/devices/users/${userId}`, json),
    listDevices: (userId) => call("GET", `/devices/users/${userId}`),
    deactivateDevice: (userId, deviceId) => call("POST", `/devices/users/${userId}/${deviceId}:deactivate`),
    deleteDevice: (userId, deviceId) => call("DELETE", `/devices/users/${userId}/${deviceId}`),
  };
}

const QUIET: JsonObject = {
  global_unsubscribe: false,
  channels: [{ channel: "CHANNEL_SMS", enabled: false }],
  notification_types: {
    marketing: { enabled: false },
    order_status: { enabled: true, channels: ["CHANNEL_PUSH_FCM", "CHANNEL_IN_APP"] },
  },
};
const SILENT: JsonObject = { global_unsubscribe: true };

/**
 * The same story told through any surface; ids, tokens and times are replaced by
 * placeholders so that the four transcripts can be compared.
 */
async function story(api: Api): Promise<Outcome[]> {
  const [user, other] = [randomUUID(), randomUUID()];
  const [firstToken, secondToken] = [`fcm_${randomUUID()}`, `apns_${randomUUID()}`];
  const steps: Outcome[] = [];
  const step = async (result: Promise<Outcome>) => {
    const value = await result;
    steps.push(value);
    return value as JsonObject;
  };
  await step(api.getPreferences(user));
  await step(api.updatePreferences(user, QUIET, 0));
  await step(api.getPreferences(user));
  await step(api.updatePreferences(user, SILENT, 1));
  await step(api.updatePreferences(user, QUIET, 1));
  await step(api.getPreferences(user));

  const first = await step(
    api.registerDevice(user, {
      platform: "DEVICE_PLATFORM_ANDROID_FCM",
      token: firstToken,
      app_version: "1.0.0",
    }),
  );
  await new Promise((resolve) => setTimeout(resolve, 5));
  const second = await step(
    api.registerDevice(user, { platform: "DEVICE_PLATFORM_IOS_APNS", token: secondToken }),
  );
  await step(api.listDevices(user));
  await step(api.registerDevice(other, { platform: "DEVICE_PLATFORM_ANDROID_FCM", token: firstToken }));
  await step(api.listDevices(user));
  await step(api.deactivateDevice(user, String(second.id)));
  await step(api.deactivateDevice(other, String(second.id)));
  await step(api.deleteDevice(other, String(second.id)));
  await step(api.deleteDevice(user, String(second.id)));
  await step(api.listDevices(user));
  await step(api.listDevices(other));

  let text = JSON.stringify(steps);
  const placeholders: [string, string][] = [
    [user, "<user>"],
    [other, "<other>"],
    [String(first.id), "<first device>"],
    [String(second.id), "<second device>"],
    [firstToken, "<first token>"],
    [secondToken, "<second token>"],
  ];
  for (const [value, placeholder] of placeholders) text = text.replaceAll(value, placeholder);
  text = text.replace(/"\d{4}-\d\d-\d\dT[\d:.]+Z"/g, '"<time>"');
  return JSON.parse(text) as Outcome[];
}

const ALL_CHANNELS_ON = [
  "CHANNEL_EMAIL",
  "CHANNEL_SMS",
  "CHANNEL_PUSH_FCM",
  "CHANNEL_PUSH_APNS",
  "CHANNEL_IN_APP",
].map((channel) => ({ channel, enabled: true }));

describe("PreferenceService and DeviceService, built and run as processes", () => {
  let a: ServiceProcess;
  let b: ServiceProcess;

  beforeAll(async () => {
    [a, b] = await Promise.all([
      startServiceProcess({ env: { ...AUTH_ENV, LOG_CALLS: "all" } }),
      startServiceProcess({ env: { ...AUTH_ENV, LOG_CALLS: "all" } }),
    ]);
    for (const service of [a, b]) {
      const ready = await eventually(async () => (await fetch(`${service.httpUrl}/readyz`)).ok, 30_000);
      expect(ready, service.output()).toBe(true);
    }
  });

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  const rest = (service: ServiceProcess) => `${service.httpUrl}${API}`;

  it("tells the same story over Connect, gRPC, gRPC-Web and REST", async () => {
    const interceptors = [authInterceptor()];
    const transcripts = {
      connect: await story(
        rpcApi(createConnectTransport({ baseUrl: a.httpUrl, httpVersion: "1.1", interceptors })),
      ),
      grpc: await story(rpcApi(createGrpcTransport({ baseUrl: a.grpcUrl, interceptors }))),
      "grpc-web": await story(
        rpcApi(createGrpcWebTransport({ baseUrl: a.httpUrl, httpVersion: "1.1", interceptors })),
      ),
      rest: await story(restApi(a.httpUrl)),
    };
    const device = (
      id: string,
      token: string,
      userId: string,
      platform: string,
      appVersion: string,
      active = true,
    ) => ({
      id,
      user_id: userId,
      platform,
      token,
      app_version: appVersion,
      active,
      last_seen_time: "<time>",
      create_time: "<time>",
    });
    const first = device("<first device>", "<first token>", "<user>", "DEVICE_PLATFORM_ANDROID_FCM", "1.0.0");
    const second = device("<second device>", "<second token>", "<user>", "DEVICE_PLATFORM_IOS_APNS", "");
    const quiet = {
      user_id: "<user>",
      global_unsubscribe: false,
      channels: ALL_CHANNELS_ON.map((each) =>
        each.channel === "CHANNEL_SMS" ? { ...each, enabled: false } : each,
      ),
      notification_types: {
        marketing: { enabled: false, channels: [] },
        order_status: { enabled: true, channels: ["CHANNEL_PUSH_FCM", "CHANNEL_IN_APP"] },
      },
      is_default: false,
      revision: "1",
      update_time: "<time>",
    };
    expect(transcripts.connect).toEqual([
      {
        user_id: "<user>",
        global_unsubscribe: false,
        channels: ALL_CHANNELS_ON,
        notification_types: {},
        is_default: true,
        revision: "0",
      },
      quiet,
      quiet,
      {
        ...quiet,
        global_unsubscribe: true,
        channels: ALL_CHANNELS_ON,
        notification_types: {},
        revision: "2",
      },
      { error: "STALE_REVISION" },
      {
        ...quiet,
        global_unsubscribe: true,
        channels: ALL_CHANNELS_ON,
        notification_types: {},
        revision: "2",
      },
      first,
      second,
      { devices: [second, first] },
      { ...first, user_id: "<other>", app_version: "" },
      { devices: [second] },
      { ...second, active: false },
      { error: "NOT_FOUND" },
      { error: "NOT_FOUND" },
      {},
      { devices: [] },
      { devices: [{ ...first, user_id: "<other>", app_version: "" }] },
    ]);
    expect(transcripts.grpc).toEqual(transcripts.connect);
    expect(transcripts["grpc-web"]).toEqual(transcripts.connect);
    expect(transcripts.rest).toEqual(transcripts.connect);
  });

  it("answers REST in snake_case with the revision as ETag, and refuses a stale If-Match with 412", async () => {
    const user = randomUUID();
    const url = `${rest(a)}/preferences/users/${user}`;
    const defaults = await fetch(url, { headers: authHeaders() });
    expect(defaults.status).toBe(200);
    expect(defaults.headers.get("etag")).toBe('"0"');
    expect(Object.keys((await defaults.json()) as object).sort()).toEqual([
      "channels",
      "global_unsubscribe",
      "is_default",
      "notification_types",
      "revision",
      "user_id",
    ]);

    const put = (ifMatch: string, body: JsonObject) =>
      fetch(url, {
        method: "PUT",
        headers: { ...authHeaders(), "content-type": "application/json", "if-match": ifMatch },
        body: JSON.stringify(body),
      });
    const created = await put('"0"', QUIET);
    expect(created.status).toBe(200);
    expect(created.headers.get("etag")).toBe('"1"');
    expect((await created.json()) as object).toMatchObject({ is_default: false, revision: "1" });
    expect((await put('"1"', SILENT)).headers.get("etag")).toBe('"2"');

    const stale = await put('"1"', QUIET);
    expect(stale.status).toBe(412);
    expect(await stale.json()).toEqual({
      errors: [
        {
          code: "STALE_REVISION",
          title: "Ресурс изменён другим запросом",
          detail: `the preferences of user ${user} are at revision 2, not 1: read them again and retry`,
          source: { parameter: "If-Match" },
        },
      ],
    });
    const current = await fetch(url, { headers: authHeaders() });
    expect(current.headers.get("etag")).toBe('"2"');
    expect(((await current.json()) as JsonObject).global_unsubscribe).toBe(true);
  });

  it("points REST validation errors at the path parameter or into the body", async () => {
    const send = (method: string, path: string, body?: unknown) =>
      fetch(`${rest(a)}${path}`, {
        method,
        headers: { ...authHeaders(), "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const errorsOf = async (response: Response) => {
      expect(response.status).toBe(400);
      return ((await response.json()) as { errors: { code: string; source?: object }[] }).errors;
    };
    const user = randomUUID();

    for (const [method, path] of [
      ["GET", "/preferences/users/not-a-uuid"],
      ["GET", "/devices/users/not-a-uuid"],
      ["DELETE", `/devices/users/not-a-uuid/${randomUUID()}`],
    ] as const) {
      expect(await errorsOf(await send(method, path)), path).toMatchObject([
        { code: "VALIDATION_ERROR", source: { parameter: "user_id" } },
      ]);
    }
    expect(await errorsOf(await send("DELETE", `/devices/users/${user}/not-a-uuid`))).toMatchObject([
      { code: "VALIDATION_ERROR", source: { parameter: "device_id" } },
    ]);

    const tooMany = Array.from({ length: 11 }, () => ({ channel: "CHANNEL_EMAIL", enabled: true }));
    expect(
      await errorsOf(await send("PUT", `/preferences/users/${user}`, { channels: tooMany })),
    ).toMatchObject([{ code: "VALIDATION_ERROR", source: { pointer: "/channels" } }]);
    expect(
      await errorsOf(
        await send("PUT", `/preferences/users/${user}`, { channels: [{ channel: 42, enabled: true }] }),
      ),
    ).toMatchObject([{ code: "VALIDATION_ERROR", source: { pointer: "/channels/0/channel" } }]);
    expect(
      await errorsOf(
        await send("PUT", `/preferences/users/${user}`, {
          notification_types: { "Not A Type": { enabled: true } },
        }),
      ),
    ).toMatchObject([{ code: "VALIDATION_ERROR", source: { pointer: "/notification_types/Not A Type" } }]);
    expect(
      await errorsOf(
        await send("PUT", `/preferences/users/${user}`, {
          channels: [
            { channel: "CHANNEL_SMS", enabled: false },
            { channel: "CHANNEL_SMS", enabled: true },
          ],
        }),
      ),
    ).toMatchObject([{ code: "VALIDATION_ERROR", source: { pointer: "/channels/1/channel" } }]);

    expect(
      await errorsOf(
        await send("POST", `/devices/users/${user}`, { platform: "DEVICE_PLATFORM_PIGEON", token: "t" }),
      ),
    ).toMatchObject([{ code: "VALIDATION_ERROR", source: { pointer: "/platform" } }]);
    const shortToken = await errorsOf(
      await send("POST", `/devices/users/${user}`, { platform: "DEVICE_PLATFORM_IOS_APNS", token: "short" }),
    );
    expect(shortToken).toMatchObject([{ code: "VALIDATION_ERROR", source: { pointer: "/token" } }]);
    expect(
      await errorsOf(await send("POST", `/devices/users/${user}`, { token: "long-enough-token" })),
    ).toMatchObject([{ code: "VALIDATION_ERROR", source: { pointer: "/platform" } }]);
  });

  it("lets a user reach their own preferences and devices only, and nobody without credentials", async () => {
    const [user, other] = [randomUUID(), randomUUID()];
    const asUser = authHeaders(user, ["user"]);
    expect((await fetch(`${rest(a)}/preferences/users/${user}`, { headers: asUser })).status).toBe(200);
    expect((await fetch(`${rest(a)}/devices/users/${user}`, { headers: asUser })).status).toBe(200);
    expect((await fetch(`${rest(a)}/preferences/users/${other}`, { headers: asUser })).status).toBe(403);
    expect((await fetch(`${rest(a)}/preferences/users/${user}`)).status).toBe(401);
  });

  it("refuses a user another user's token without a word about that device; a service moves it, audited", async () => {
    const [alice, bob] = [randomUUID(), randomUUID()];
    const token = `fcm_${randomUUID()}`;
    const devicesOf = (userId: string) => `${rest(a)}/devices/users/${userId}`;
    const register = (userId: string, headers: Record<string, string>) =>
      fetch(devicesOf(userId), {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body: JSON.stringify({ platform: "DEVICE_PLATFORM_ANDROID_FCM", token, app_version: "1.0.0" }),
      });
    const listOf = async (userId: string) =>
      (await (await fetch(devicesOf(userId), { headers: authHeaders() })).json()) as {
        devices: JsonObject[];
      };

    const registered = await register(alice, authHeaders(alice, ["user"]));
    expect(registered.status).toBe(200);
    const alices = (await registered.json()) as JsonObject;
    const secrets = [String(alices.id), alice, String(alices.create_time), String(alices.last_seen_time)];

    const answers: string[] = [];
    for (const state of ["active", "inactive"]) {
      if (state === "inactive") {
        const deactivated = await fetch(`${devicesOf(alice)}/${String(alices.id)}:deactivate`, {
          method: "POST",
          headers: { ...authHeaders(alice, ["user"]), "content-type": "application/json" },
          body: "{}",
        });
        expect(deactivated.status).toBe(200);
      }
      const before = await listOf(alice);
      const refused = await register(bob, authHeaders(bob, ["user"]));
      const text = await refused.text();
      expect(refused.status, text).toBe(409);
      expect(JSON.parse(text)).toMatchObject({
        errors: [{ code: "ALREADY_EXISTS", source: { pointer: "/token" } }],
      });
      for (const secret of secrets) expect(text).not.toContain(secret);
      answers.push(text);
      expect(await listOf(alice)).toEqual(before);
      expect(await listOf(bob)).toEqual({ devices: [] });
    }
    expect(answers[1]).toBe(answers[0]);

    // The same refusal over Connect: no id, owner or time of the other device in the error either.
    const connectError = await createClient(
      DeviceService,
      createConnectTransport({
        baseUrl: a.httpUrl,
        httpVersion: "1.1",
        interceptors: [authInterceptor(bob, ["user"])],
      }),
    )
      .registerDevice({ userId: bob, platform: 1, token })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(connectError).toBeInstanceOf(ConnectError);
    expect((connectError as ConnectError).code).toBe(Code.AlreadyExists);
    const errorText = JSON.stringify({
      message: (connectError as ConnectError).message,
      details: (connectError as ConnectError).findDetails(ErrorDetailSchema),
    });
    for (const secret of secrets) expect(errorText).not.toContain(secret);

    const moved = await register(bob, authHeaders("mobile-backend", ["service"]));
    expect(moved.status).toBe(200);
    expect((await moved.json()) as JsonObject).toMatchObject({ id: alices.id, user_id: bob, active: true });
    expect(await listOf(alice)).toEqual({ devices: [] });

    const orm = await MikroORM.init({
      clientUrl: localServices().databaseUrl,
      entities: [],
      discovery: { warnWhenNoEntities: false },
    });
    try {
      const rows = await orm.em
        .getConnection()
        .execute<{ action: string; actor_id: string; before: JsonObject | null; after: JsonObject | null }[]>(
          "SELECT action, actor_id, before, after FROM audit_log WHERE resource_type = 'device' AND resource_id = ? ORDER BY id",
          [String(alices.id)],
        );
      expect(
        rows.map((row) => [row.action, row.actor_id, row.before?.userId ?? null, row.after?.userId]),
      ).toEqual([
        ["device.register", alice, null, alice],
        ["device.deactivate", alice, alice, alice],
        ["device.move", "mobile-backend", alice, bob],
      ]);
      expect(JSON.stringify(rows)).not.toContain(token);
    } finally {
      await orm.close(true);
    }
  });

  it("shows support a device token masked, and admins, services and its user the token in full", async () => {
    const user = randomUUID();
    const token = `fcm_${randomUUID()}`;
    const registered = await fetch(`${rest(a)}/devices/users/${user}`, {
      method: "POST",
      headers: { ...authHeaders(), "content-type": "application/json" },
      body: JSON.stringify({ platform: "DEVICE_PLATFORM_ANDROID_FCM", token }),
    });
    expect(registered.status).toBe(200);
    const masked = `${token.slice(0, 4)}…${token.slice(-4)}`;
    const callers: [string, Parameters<typeof authHeaders>, string][] = [
      ["admin", ["admin-1", ["admin"]], token],
      ["service", ["order-service", ["service"]], token],
      ["user-own", [user, ["user"]], token],
      ["support", ["support-1", ["support"]], masked],
    ];
    for (const [who, [subject, roles], expected] of callers) {
      const response = await fetch(`${rest(a)}/devices/users/${user}`, {
        headers: authHeaders(subject, roles),
      });
      const text = await response.text();
      expect(response.status, who).toBe(200);
      expect(
        (JSON.parse(text) as { devices: { token: string }[] }).devices.map((d) => d.token),
        who,
      ).toEqual([expected]);
      if (expected !== token) expect(text, who).not.toContain(token.slice(4, -4));

      const overConnect = await createClient(
        DeviceService,
        createConnectTransport({
          baseUrl: a.httpUrl,
          httpVersion: "1.1",
          interceptors: [authInterceptor(subject, roles)],
        }),
      ).listDevices({ userId: user });
      expect(
        overConnect.devices.map((device) => device.token),
        `${who} over Connect`,
      ).toEqual([expected]);
    }
  });

  it("never writes a device token into the logs", async () => {
    const token = `fcm_secret_${randomUUID()}`;
    const register = (userId: string, headers: Record<string, string>) =>
      fetch(`${rest(a)}/devices/users/${userId}`, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body: JSON.stringify({ platform: "DEVICE_PLATFORM_ANDROID_FCM", token }),
      });
    const [owner, thief] = [randomUUID(), randomUUID()];
    expect((await register(owner, authHeaders())).status).toBe(200);
    expect((await register(thief, authHeaders(thief, ["user"]))).status).toBe(409);
    // The search below means something only if the lines about these calls are there.
    const lines = () =>
      a.logs.filter(
        (line) =>
          line.message === "rpc" &&
          line.procedure === "platform.notification.v1.DeviceService/RegisterDevice",
      );
    const logged = await eventually(
      async () => lines().some((line) => line.code === "AlreadyExists" && typeof line.reason === "string"),
      5_000,
    );
    expect(logged, a.output()).toBe(true);
    expect(lines().some((line) => line.code === "ok" && line.surface === "rest")).toBe(true);
    expect(a.output()).not.toContain(token);
  });

  it("serves a change made through one process from the other at once, though it had the preferences cached", async () => {
    const user = randomUUID();
    const read = async (service: ServiceProcess) =>
      (await (
        await fetch(`${rest(service)}/preferences/users/${user}`, { headers: authHeaders() })
      ).json()) as JsonObject;
    const localHits = async () => {
      const text = await (await fetch(`${a.httpUrl}/metrics`)).text();
      const line =
        /notification_cache_lookups_total\{[^}]*cache="preferences"[^}]*outcome="local_hit"[^}]*\} (\d+)/.exec(
          text,
        );
      return Number(line?.[1] ?? 0);
    };
    expect((await read(a)).revision).toBe("0");
    for (let revision = 1; revision <= 5; revision++) {
      const before = await localHits();
      await read(a);
      expect(await localHits()).toBe(before + 1);

      const update = await fetch(`${rest(b)}/preferences/users/${user}`, {
        method: "PUT",
        headers: { ...authHeaders(), "content-type": "application/json" },
        body: JSON.stringify({ global_unsubscribe: revision % 2 === 1 }),
      });
      expect(update.status).toBe(200);
      // B's invalidation reaches A by Redis pub/sub once the write committed: a moment later
      // on a loaded machine, never a local TTL (5 s) later.
      const fresh = async () => {
        const seen = await read(a);
        return seen.revision === String(revision) && seen.global_unsubscribe === (revision % 2 === 1);
      };
      expect(await eventually(fresh, 1_000)).toBe(true);
    }
  });
});
