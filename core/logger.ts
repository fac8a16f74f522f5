/**
 * The logging surface the domain and the adapters depend on: structured fields
 * first, then a message. Implemented by pino in server/logger.ts.
 */
export interface Logger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
  child(bindings: object): Logger;
}
