import type { Logger } from "../core/logger.ts";
import { sleep } from "./sleep.ts";

/**
 * Runs `work` until it succeeds or `signal` aborts, waiting longer after each failure (up
 * to 10 s): a dependency down at start makes the process wait for it, not die.
 */
export async function retrying(
  what: string,
  logger: Logger,
  signal: AbortSignal,
  work: () => Promise<void>,
): Promise<void> {
  for (let attempt = 1; !signal.aborted; attempt++) {
    try {
      await work();
      return;
    } catch (error) {
      const retryInMs = Math.min(attempt * 1_000, 10_000);
      logger.warn({ err: error, attempt, retryInMs }, `${what} not ready yet`);
      await sleep(retryInMs, signal);
    }
  }
}
