import type { Redis } from "ioredis";

/** One worker's report of one provider's breaker. */
export interface ProviderWorkerReport {
  provider: string;
  worker: string;
  state: "closed" | "half_open" | "open";
  reportedAt: Date;
}

const KEY = "notification:provider-states";

/**
 * Where workers post how they see each provider, for admins to read from any api process:
 * a breaker lives in the memory of the worker that opened it. Reports older than `freshMs`
 * are left out (a worker that stopped), and cleared away when read.
 */
export class ProviderStatusBoard {
  constructor(
    private readonly redis: Redis,
    private readonly freshMs = 15_000,
  ) {}

  async post(
    worker: string,
    states: { provider: string; state: ProviderWorkerReport["state"] }[],
  ): Promise<void> {
    if (states.length === 0) return;
    const at = Date.now();
    const fields = states.flatMap(({ provider, state }) => [
      `${provider}\u0000${worker}`,
      JSON.stringify({ state, at }),
    ]);
    // The whole board goes when no worker has posted for a while.
    await this.redis
      .multi()
      .hset(KEY, ...fields)
      .pexpire(KEY, this.freshMs * 4)
      .exec();
  }

  async read(): Promise<ProviderWorkerReport[]> {
    const entries = Object.entries(await this.redis.hgetall(KEY));
    const oldest = Date.now() - this.freshMs;
    const fresh: ProviderWorkerReport[] = [];
    const stale: string[] = [];
    for (const [field, value] of entries) {
      const [provider = "", worker = ""] = field.split("\u0000");
      const { state, at } = JSON.parse(value) as { state: ProviderWorkerReport["state"]; at: number };
      if (at < oldest) stale.push(field);
      else fresh.push({ provider, worker, state, reportedAt: new Date(at) });
    }
    if (stale.length > 0) await this.redis.hdel(KEY, ...stale);
    return fresh;
  }
}
