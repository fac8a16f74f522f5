export { OutboxRelay, type OutboxRelayOptions } from "./outbox-relay.ts";
export { ensureTopics, TOPICS, topicConfigs } from "./topics.ts";
