import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // 2-core machines: run test files in forked processes, two at a time.
    pool: "forks",
    maxWorkers: 2,
  },
});
