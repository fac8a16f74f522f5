interface Waiter<T> {
  predicate: (item: T) => boolean;
  resolve: (item: T) => void;
}

/** What a peer accepted, oldest first and bounded, and the tests waiting for something to arrive. */
export class ReceivedLog<T> {
  private readonly items: T[] = [];
  private readonly waiters = new Set<Waiter<T>>();
  private readonly what: string;
  private readonly remember: number;

  constructor(what: string, remember: number) {
    if (!(Number.isInteger(remember) && remember >= 1)) {
      throw new Error(`${what} must remember at least one message, got ${remember}`);
    }
    this.what = what;
    this.remember = remember;
  }

  keep(item: T): void {
    this.items.push(item);
    if (this.items.length > this.remember) this.items.shift();
    for (const waiter of this.waiters) if (waiter.predicate(item)) waiter.resolve(item);
  }

  all(): T[] {
    return [...this.items];
  }

  clear(): void {
    this.items.length = 0;
  }

  /** The first item, kept or to come, that `predicate` accepts; rejects after `timeoutMs`. */
  waitFor(predicate: (item: T) => boolean, timeoutMs = 5000): Promise<T> {
    const found = this.items.find(predicate);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter<T> = {
        predicate,
        resolve: (item) => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve(item);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`${this.what} received no such message within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }
}
