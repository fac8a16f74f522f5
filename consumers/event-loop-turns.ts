import { setImmediate as nextTurn } from "node:timers/promises";

/**
 * For a long loop over records: every `every` calls, the promise waits for the event loop's
 * next turn. Reading a thousand records in one go would hold up every other partition's I/O
 * (and with it their latency) for tens of milliseconds.
 */
export function turnTaker(every = 100): () => Promise<void> {
  let calls = 0;
  return async () => {
    calls++;
    if (calls % every === 0) await nextTurn();
  };
}
