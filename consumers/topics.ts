import type { Admin, ITopicConfig } from "kafkajs";

/** The topics this service reads and writes, from the specification. */
export const TOPICS = {
  sendRequests: "com.platform.notification.send.request.v1",
  events: "com.platform.notification.events.v1",
} as const;

export function topicConfigs(partitions: number, replicationFactor: number): ITopicConfig[] {
  return Object.values(TOPICS).map((topic) => ({ topic, numPartitions: partitions, replicationFactor }));
}

/** Creates the topics that are missing; existing ones are left as they are. Returns the created names. */
export async function ensureTopics(admin: Admin, topics: ITopicConfig[]): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((topic) => !existing.has(topic.topic));
  if (missing.length === 0) return [];
  await admin.createTopics({ topics: missing, waitForLeaders: true });
  return missing.map((topic) => topic.topic);
}
