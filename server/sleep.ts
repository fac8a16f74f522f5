import { setTimeout as delay } from "node:timers/promises";

/**
 * Waits `ms`, or less when `signal` aborts; resolves either way. The abort listener
 * lives only while it waits (Node removes it when the timer fires), so a loop that
 * sleeps on one long-lived signal does not pile listeners on it.
 */
export async function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  try {
    await delay(ms, undefined, { signal });
  } catch (error) {
    if (!signal.aborted) throw error;
  }
}
