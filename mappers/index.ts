// Between the generated messages of proto/ and the domain's types, for every edge that
// speaks them: the RPC services now, the Kafka consumers and producers next.
export { apiKeyMessage } from "./api-keys.ts";
export { campaignReportMessage, reportBucketOf } from "./campaign-reports.ts";
export { campaignDraftOf, campaignFilterOf, campaignMessage } from "./campaigns.ts";
export { channelOf, protoChannelOf } from "./channels.ts";
export { contractPatternMatch, contractValidator } from "./contract-rules.ts";
export { deviceMessage, platformOf } from "./devices.ts";
export { inboxFilterOf, inboxMessage, inboxSeqsOf } from "./inbox.ts";
export { messageFilterOf, messageMessage } from "./messages.ts";
export { preferencesMessage, settingsOf } from "./preferences.ts";
export { isRole, protoRoleOf, roleOfProto } from "./roles.ts";
export { segmentDraftOf, segmentFilterOf, segmentMessage } from "./segments.ts";
export { type SendRequestFields, sendRequestOf } from "./send-requests.ts";
export { deliveryStatsGroupMessage, deliveryStatsQueryOf } from "./stats.ts";
export { pointerSegment, unstorableTextProblems } from "./storable-text.ts";
export { suppressionMessage, suppressionReasonOf } from "./suppressions.ts";
export { draftOf, localeOf, templateMessage, versionMessage } from "./templates.ts";
