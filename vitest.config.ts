import { defineConfig } from "vitest/config";

// Integration tests share one set of local services (scripts/services), and the
// machine has two cores: files run one after another, tests inside a file in order.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The tests' own kafkajs clients without the timer that spins on every idle connection,
    // as the service runs them: it would take CPU from the services under test.
    setupFiles: ["server/kafka-request-queue.ts"],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
