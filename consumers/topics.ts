import type { Admin, ITopicConfig } from "kafkajs";

import type { Priority } from "../core/sending/index.ts";

/** The topics this service reads and writes: the specification's, and its own internal ones. */
export const TOPICS = {
  sendRequests: "com.platform.notification.send.request.v1",
  events: "com.platform.notification.events.v1",
  /** Where send requests nobody can ever send go, with the reason, the original bytes and headers. */
  sendRequestsDeadLetter: "com.platform.notification.send.request.v1.dlq",
} as const;

/** The dispatch queue of each priority: internal, read only by our dispatchers. */
export const DISPATCH_TOPICS: Record<Priority, string> = {
  high: "notification-service.dispatch.high",
  normal: "notification-service.dispatch.normal",
  low: "notification-service.dispatch.low",
};

// A dispatch job carries its rendered message, up to the render limit for each part and sealed:
// more than Kafka's default of 1 MiB per record.
const DISPATCH_MAX_MESSAGE_BYTES = 8 * 1024 * 1024;

export function topicConfigs(partitions: number, replicationFactor: number): ITopicConfig[] {
  const topic = (name: string): ITopicConfig => ({
    topic: name,
    numPartitions: partitions,
    replicationFactor,
  });
  return [
    ...Object.values(TOPICS).map(topic),
    ...Object.values(DISPATCH_TOPICS).map((name) => ({
      ...topic(name),
      configEntries: [{ name: "max.message.bytes", value: String(DISPATCH_MAX_MESSAGE_BYTES) }],
    })),
  ];
}

/** Creates the topics that are missing; existing ones are left as they are. Returns the created names. */
export async function ensureTopics(admin: Admin, topics: ITopicConfig[]): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((topic) => !existing.has(topic.topic));
  if (missing.length === 0) return [];
  await admin.createTopics({ topics: missing, waitForLeaders: true });
  return missing.map((topic) => topic.topic);
}
