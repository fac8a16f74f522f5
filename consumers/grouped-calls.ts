/** A batch operation: one result per item, in their order. */
export type BatchCall<T, R> = (items: T[]) => Promise<R[]>;

export interface GroupedCallsOptions {
  /** Runs of the operation under way at once. */
  concurrency: number;
  /** The most items one run takes; a caller with more runs alone. */
  maxItems: number;
}

interface Waiting<T, R> {
  items: T[];
  resolve(results: R[]): void;
  reject(error: unknown): void;
}

/**
 * Group commit for a batch operation: a call made while `concurrency` runs are under way
 * waits, and every call that waited goes in the next run together, each caller getting its
 * own items' results. Idle, a call runs at once; busy, the runs grow instead of queueing
 * up. The pipeline's consumers hand over a chunk per partition: six small transactions at
 * a moderate rate, each with its round trips, where one would do.
 *
 * A run of several callers that fails is run again per caller, so that a caller whose items
 * make it fail does not hold up the others; each then gets its own outcome.
 */
export function groupedCalls<T, R>(call: BatchCall<T, R>, options: GroupedCallsOptions): BatchCall<T, R> {
  const waiting: Waiting<T, R>[] = [];
  let running = 0;

  const takeGroup = (): Waiting<T, R>[] => {
    let count = (waiting[0] as Waiting<T, R>).items.length;
    let callers = 1;
    while (callers < waiting.length) {
      const next = (waiting[callers] as Waiting<T, R>).items.length;
      if (count + next > options.maxItems) break;
      count += next;
      callers++;
    }
    return waiting.splice(0, callers);
  };

  const runAlone = async (caller: Waiting<T, R>) => {
    try {
      caller.resolve(await call(caller.items));
    } catch (error) {
      caller.reject(error);
    }
  };

  const runGroup = async (group: Waiting<T, R>[]) => {
    if (group.length === 1) return runAlone(group[0] as Waiting<T, R>);
    let results: R[];
    try {
      results = await call(group.flatMap((caller) => caller.items));
    } catch {
      for (const caller of group) await runAlone(caller);
      return;
    }
    let at = 0;
    for (const caller of group) {
      caller.resolve(results.slice(at, at + caller.items.length));
      at += caller.items.length;
    }
  };

  const pump = () => {
    while (running < options.concurrency && waiting.length > 0) {
      running++;
      void runGroup(takeGroup()).finally(() => {
        running--;
        pump();
      });
    }
  };

  return (items) =>
    new Promise<R[]>((resolve, reject) => {
      waiting.push({ items, resolve, reject });
      pump();
    });
}
