export { ensureTopics, TOPICS, topicConfigs } from "./topics.ts";
