import { pino } from "pino";
import type { Logger } from "../core/logger.ts";
import { redactPersonalData, redactText } from "../core/personal-data.ts";
import type { LogLevel } from "./config.ts";

/**
 * One JSON line per event on stdout. Every record passes through the personal-data
 * redaction, so a careless field can't leak an address, phone, token or body.
 */
export function createLogger(
  level: LogLevel,
  destination: pino.DestinationStream = pino.destination(1),
): Logger {
  return pino(
    {
      level,
      base: { service: "notification-service", pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      messageKey: "message",
      formatters: {
        level: (label) => ({ level: label }),
        log: (record) => redactPersonalData(record) as Record<string, unknown>,
      },
      serializers: { err: (error: unknown) => redactPersonalData(error) },
      hooks: {
        // The message text is not part of the record formatters see, so it is redacted here.
        logMethod(args, method) {
          method.apply(
            this,
            args.map((arg) => (typeof arg === "string" ? redactText(arg) : arg)) as typeof args,
          );
        },
      },
    },
    destination,
  );
}
