// The Analytics Service peer as a process, for local development: `npm start` reads its
// segments as campaigns' "analytics:<key>" audiences, as it would the platform's service.
//
//   node scripts/analytics-peer/serve.ts
//
// ANALYTICS_PEER_PORT (2600), ANALYTICS_PEER_TOKEN (dev): the bearer token every call must
// carry. Its segments, the same users at every start: spring-buyers (1,000 users) and
// all-users (1,000,000). Its page is at / on the same port (`POST /fault` to misbehave).
// Listens on 127.0.0.1 only; one JSON line to stdout once ready; SIGTERM or SIGINT stops it.

import { startAnalyticsPeer } from "./analytics-peer.ts";

function log(level: "info" | "error", msg: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })}\n`);
}

const raw = process.env.ANALYTICS_PEER_PORT;
const port = raw ? Number(raw) : 2600;
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  log("error", "invalid ANALYTICS_PEER_PORT", { value: raw });
  process.exit(2);
}

const peer = await startAnalyticsPeer({
  port,
  token: process.env.ANALYTICS_PEER_TOKEN || "dev",
  segments: {
    "spring-buyers": { displayName: "Покупатели весны", size: 1_000 },
    "all-users": { displayName: "Все пользователи", size: 1_000_000 },
  },
});
log("info", "analytics peer ready", { url: peer.url, segments: ["spring-buyers", "all-users"] });

let stopping = false;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void peer.close().then(() => {
      log("info", "analytics peer stopped", { signal });
      process.exit(0);
    });
  });
}
