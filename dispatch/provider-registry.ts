import type { Channel } from "../core/channels.ts";
import type { Provider } from "../core/sending/index.ts";

/**
 * The configured providers by name. Two with one name stop the start; asking for an unknown
 * name answers undefined, so the message that named it fails at once with that reason.
 */
export class ProviderRegistry {
  private readonly byName = new Map<string, Provider>();

  constructor(providers: readonly Provider[]) {
    for (const provider of providers) {
      if (this.byName.has(provider.name)) {
        throw new Error(`two providers are named "${provider.name}": each needs a name of its own`);
      }
      this.byName.set(provider.name, provider);
    }
  }

  get(name: string): Provider | undefined {
    return this.byName.get(name);
  }

  /** The providers of a channel, in the order they were configured. */
  forChannel(channel: Channel): Provider[] {
    return [...this.byName.values()].filter((provider) => provider.channels.includes(channel));
  }

  /** Closes every provider, all of them even when one fails; the first failure is thrown after. */
  async close(): Promise<void> {
    const results = await Promise.allSettled([...this.byName.values()].map((provider) => provider.close()));
    const failed = results.find((result) => result.status === "rejected");
    if (failed) throw failed.reason;
  }
}
