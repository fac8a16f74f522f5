// What keeps the dispatcher from hammering a failing provider: breakers, rate limits, retry waits.

export {
  type BreakerSettings,
  type BreakerState,
  CircuitBreaker,
  DEFAULT_BREAKER_SETTINGS,
} from "./circuit-breaker.ts";
export {
  type ProviderGateSettings,
  ProviderGates,
  type ProviderGatesOptions,
} from "./provider-gates.ts";
export { DEFAULT_RETRY_SETTINGS, type RetrySettings, retryDelayMs } from "./retry-delay.ts";
