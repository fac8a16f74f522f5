import { BinaryStatusEvents, registerOurSchemas, type SchemaRegistryClient } from "../consumers/index.ts";
import type { Logger } from "../core/logger.ts";
import type { StatusEventEncoder } from "../core/sending/index.ts";
import { sleep } from "./sleep.ts";

/**
 * Registers our event schemas, trying again until the registry answers or `signal` aborts,
 * and hands binary status events the id they carry. Every process that writes events does
 * it at start; registering what is there already answers the same ids.
 */
export async function registerEventSchemas(
  registry: SchemaRegistryClient,
  statusEvents: StatusEventEncoder,
  logger: Logger,
  signal: AbortSignal,
): Promise<void> {
  for (let attempt = 1; !signal.aborted; attempt++) {
    try {
      const ids = await registerOurSchemas(registry);
      if (statusEvents instanceof BinaryStatusEvents) statusEvents.bind(ids);
      logger.info({ schemas: Object.fromEntries(ids) }, "event schemas registered");
      return;
    } catch (error) {
      const retryInMs = Math.min(attempt * 1_000, 10_000);
      logger.warn({ err: error, attempt, retryInMs }, "the schema registry not ready yet");
      await sleep(retryInMs, signal);
    }
  }
}
