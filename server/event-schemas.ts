import { BinaryStatusEvents, registerOurSchemas, type SchemaRegistryClient } from "../consumers/index.ts";
import type { Logger } from "../core/logger.ts";
import type { StatusEventEncoder } from "../core/sending/index.ts";
import { retrying } from "./retrying.ts";

/**
 * Registers our event schemas once the registry answers, and hands binary status events
 * the id they carry. Every process that writes events does it at start; registering what
 * is there already answers the same ids.
 */
export function registerEventSchemas(
  registry: SchemaRegistryClient,
  statusEvents: StatusEventEncoder,
  logger: Logger,
  signal: AbortSignal,
): Promise<void> {
  return retrying("the schema registry", logger, signal, async () => {
    const ids = await registerOurSchemas(registry);
    if (statusEvents instanceof BinaryStatusEvents) statusEvents.bind(ids);
    logger.info({ schemas: Object.fromEntries(ids) }, "event schemas registered");
  });
}
