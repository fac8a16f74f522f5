interface Waiter<T> {
  predicate: (item: T) => boolean;
  resolve: (item: T) => void;
}

/** What every peer offers on what it received. */
export interface ReceivedItems<T> {
  /** What it received, oldest first, within what it remembers. */
  messages(): T[];
  /** The first item, received or to come, that `predicate` accepts; rejects after `timeoutMs` (5 s by default). */
  waitFor(predicate: (item: T) => boolean, timeoutMs?: number): Promise<T>;
  clear(): void;
}

/** What a peer accepted, oldest first and bounded, and the tests waiting for something to arrive. */
export class ReceivedLog<T> {
  private readonly items: T[] = [];
  private readonly waiters = new Set<Waiter<T>>();
  private readonly what: string;
  private readonly remember: number;
  private readonly noun: string;

  /** `what` names the peer in errors ("the SMTP peer"), `noun` what it keeps ("message", "SMS"). */
  constructor(what: string, remember: number, noun = "message") {
    if (!(Number.isInteger(remember) && remember >= 1)) {
      throw new Error(`${what} must remember at least one ${noun}, got ${remember}`);
    }
    this.what = what;
    this.remember = remember;
    this.noun = noun;
  }

  keep(item: T): void {
    this.items.push(item);
    if (this.items.length > this.remember) this.items.shift();
    for (const waiter of this.waiters) if (waiter.predicate(item)) waiter.resolve(item);
  }

  all(): T[] {
    return [...this.items];
  }

  find(predicate: (item: T) => boolean): T | undefined {
    return this.items.find(predicate);
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
        reject(new Error(`${this.what} received no such ${this.noun} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** The log as a peer offers it: `messages`, `waitFor` and `clear`, to spread into the peer. */
  asReceivedItems(): ReceivedItems<T> {
    return {
      messages: () => this.all(),
      waitFor: (predicate, timeoutMs) => this.waitFor(predicate, timeoutMs),
      clear: () => this.clear(),
    };
  }
}
