import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['services/**/*.test.ts', 'scripts/**/*.test.ts', 'test/**/*.test.ts'],
    // Builds the Go test peers and the compiled services that end-to-end tests start.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Real servers and child processes on a 2-core machine: keep files from starving each other.
    maxWorkers: 2,
  },
});
