import { defineConfig } from "vitest/config";

// Integration tests share one set of local services (scripts/services), and the
// machine has two cores: files run one after another, tests inside a file in order.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
