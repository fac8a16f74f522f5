import { createRequire } from "node:module";

// kafkajs 2.2.4 keeps, per broker connection, a timer that checks the requests waiting to be
// sent. Once a connection has had one answer, that timer re-arms itself every millisecond for
// ever, whether anything waits or not (kafkajs issues 1556 and 1704, unfixed upstream): an
// idle worker took 1.41 s of CPU per 10 s with it, 1.08 s without. This module, loaded with
// the process's infrastructure, replaces that one method on the class every connection shares:
// the check is scheduled only while a request waits, at the end of a client-side throttle or
// after kafkajs's own 10 ms otherwise. A waiting request needs nothing else: every answer and
// every new request checks the queue as well.

interface RequestQueue {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

const require = createRequire(import.meta.url);
const { prototype } = require("kafkajs/src/network/requestQueue/index.js") as { prototype: RequestQueue };

/** kafkajs's CHECK_PENDING_REQUESTS_INTERVAL: how soon a request held by the in-flight limit is tried again. */
const RETRY_HELD_REQUEST_MS = 10;

prototype.scheduleCheckPendingRequests = function scheduleCheckPendingRequests(this: RequestQueue) {
  if (this.throttleCheckTimeoutId !== null || this.pending.length === 0) return;
  const untilUnthrottled = this.throttledUntil - Date.now();
  this.throttleCheckTimeoutId = setTimeout(
    () => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    },
    untilUnthrottled > 0 ? untilUnthrottled : RETRY_HELD_REQUEST_MS,
  );
};
