import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MikroORM } from "@mikro-orm/postgresql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ApnsPeer,
  type FcmPeer,
  startApnsPeer,
  startFcmPeer,
} from "../../scripts/provider-peers/index.ts";
import { AUTH_ENV, authHeaders } from "../support/credentials.ts";
import { pemKeyPair } from "../support/key-pairs.ts";
import { createActiveTemplate, messagesOf, pipelineEnv, testOrm } from "../support/pipeline.ts";
import { eventually, type ServiceProcess, startServiceProcess } from "../support/service-process.ts";

// Push through the built service to the local FCM and APNs peers, with the real SDKs
// (firebase-admin routed to the peer, @parse/node-apn): a user's devices get their pushes, and
// a token the provider reports dead deactivates its device.
const run = randomUUID().slice(0, 8);
const template = `push_${run}`;
const dir = mkdtempSync(join(tmpdir(), "push-delivery-"));
const user = randomUUID();
const fcmToken = `fcm-${randomBytes(16).toString("hex")}`;
const apnsToken = randomBytes(32).toString("hex");
const apple = { teamId: "TEAM123456", keyId: "KEY1234567", topic: "ru.example.app" };
let fcm: FcmPeer;
let apns: ApnsPeer;
let service: ServiceProcess;
let orm: MikroORM;

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

async function call(method: string, path: string, body?: object) {
  const response = await fetch(`${service.httpUrl}/api/v1/notifications${path}`, {
    method,
    headers: { ...authHeaders("app-backend", ["service"]), "content-type": "application/json" },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

async function sendPush(): Promise<string> {
  const requestId = `req-${randomUUID()}`;
  const answer = await call("POST", "/send/direct", {
    requestId,
    recipients: [{ userId: user }],
    templateName: template,
    languageCode: "ru",
    payloadVariables: { orderId: "A-9" },
    deliveryOptions: { channels: ["push_fcm", "push_apns"], priority: "high", ttlSeconds: 600 },
  });
  expect(answer.status, JSON.stringify(answer.json)).toBe(200);
  return requestId;
}

beforeAll(async () => {
  const account = pemKeyPair("rsa");
  const apnsKey = pemKeyPair("ec");
  const projectId = `project-${run}`;
  const clientEmail = `sender@${projectId}.iam.gserviceaccount.com`;
  [fcm, apns] = await Promise.all([
    startFcmPeer({ projectId, clientEmail, publicKey: account.publicKey }),
    startApnsPeer({ ...apple, publicKey: apnsKey.publicKey }),
  ]);
  service = await startServiceProcess({
    env: {
      ...AUTH_ENV,
      ...pipelineEnv(join(dir, "sink.jsonl")),
      FCM_SERVICE_ACCOUNT_FILE: file(
        "account.json",
        JSON.stringify({
          type: "service_account",
          project_id: projectId,
          client_email: clientEmail,
          private_key: account.privateKey,
        }),
      ),
      FCM_ENDPOINT: `127.0.0.1:${fcm.port}`,
      FCM_TLS_CA_FILE: file("fcm-ca.pem", fcm.ca),
      APNS_KEY_FILE: file("apns.p8", apnsKey.privateKey),
      APNS_KEY_ID: apple.keyId,
      APNS_TEAM_ID: apple.teamId,
      APNS_TOPIC: apple.topic,
      APNS_ADDRESS: "127.0.0.1",
      APNS_PORT: String(apns.port),
      APNS_TLS_CA_FILE: file("apns-ca.pem", apns.ca),
    },
  });
  orm = testOrm();
  for (const channel of ["CHANNEL_PUSH_FCM", "CHANNEL_PUSH_APNS"]) {
    await createActiveTemplate(
      service.httpUrl,
      `${template}.${channel === "CHANNEL_PUSH_FCM" ? "push_fcm" : "push_apns"}`,
      [
        {
          language_code: "ru",
          subject: "Заказ {{orderId}}",
          body: "Заказ {{orderId}} в пути",
          body_html: "",
        },
      ],
      channel,
    );
  }
  for (const [platform, token] of [
    ["DEVICE_PLATFORM_ANDROID_FCM", fcmToken],
    ["DEVICE_PLATFORM_IOS_APNS", apnsToken],
  ]) {
    const registered = await call("POST", `/devices/users/${user}`, { platform, token });
    expect(registered.status, JSON.stringify(registered.json)).toBe(200);
  }
});

afterAll(async () => {
  await orm?.close(true);
  await service?.stop();
  await Promise.all([fcm?.close(), apns?.close()]);
});

describe("push through FCM and APNs", () => {
  it("delivers to each of the user's devices through its platform's provider", async () => {
    const requestId = await sendPush();
    const sent = await eventually(async () => {
      const messages = await messagesOf(orm, requestId);
      return messages.length === 2 && messages.every((message) => message.status === "sent");
    }, 30_000);
    expect(sent, service.output().slice(-3000)).toBe(true);
    const onFcm = fcm.messages().find((each) => (each.message as { token?: string }).token === fcmToken);
    expect(onFcm?.message).toMatchObject({
      notification: { title: "Заказ A-9", body: "Заказ A-9 в пути" },
      android: { priority: "high", ttl: expect.stringMatching(/^\d+s$/) },
    });
    const onApns = await apns.waitFor((each) => each.deviceToken === apnsToken, 5_000);
    expect(onApns.payload).toMatchObject({
      aps: { alert: { title: "Заказ A-9", body: "Заказ A-9 в пути" } },
    });
    expect(onApns.headers).toMatchObject({ "apns-topic": apple.topic, "apns-priority": "10" });
    const providers = (await messagesOf(orm, requestId)).map((message) => message.provider_name).sort();
    expect(providers).toEqual(["push_apns-apns", "push_fcm-fcm"]);
  });

  it("deactivates the device of a token FCM reports unregistered, and sends it nothing more", async () => {
    fcm.markGone(fcmToken);
    const requestId = await sendPush();
    const failed = await eventually(
      async () => (await messagesOf(orm, requestId)).some((message) => message.status === "failed"),
      30_000,
    );
    expect(failed, service.output().slice(-3000)).toBe(true);
    const fcmMessage = (await messagesOf(orm, requestId)).find(
      (message) => message.channel_type === "push_fcm",
    );
    expect(fcmMessage?.status_details).toMatch(/^DESTINATION_GONE/);
    const devices = (await call("GET", `/devices/users/${user}`)).json.devices as {
      token: string;
      active: boolean;
    }[];
    expect(devices.find((device) => device.token === fcmToken)?.active).toBe(false);
    expect(devices.find((device) => device.token === apnsToken)?.active).toBe(true);

    const next = await sendPush();
    const ended = await eventually(async () => (await messagesOf(orm, next)).length === 2, 20_000);
    expect(ended).toBe(true);
    const fcmNext = (await messagesOf(orm, next)).find((message) => message.channel_type === "push_fcm");
    expect([fcmNext?.status, fcmNext?.status_details]).toEqual(["failed", "NO_DEVICE"]);
  });
});
