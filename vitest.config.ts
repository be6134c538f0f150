import { defineConfig } from 'vitest/config';

/**
 * One project per kind of test, so a part of the suite can run alone
 * (`npm run test:unit`, `npx vitest run --project storage`) and the global
 * setup (test/global-setup.ts) builds only what the selected projects need.
 * `npm test` runs them all.
 */
const project = (name: string, include: string[], extra: object = {}) => ({
  extends: true as const,
  test: { name, include, globalSetup: ['test/global-setup.ts'], ...extra },
});

export default defineConfig({
  test: {
    projects: [
      // No Go tool, no database, no build: in-process servers on in-memory SQLite.
      project('unit', [
        'services/**/*.test.ts',
        'scripts/**/*.test.ts',
        'test/integration/**/*.test.ts',
        'test/property/**/*.test.ts',
        'test/generated-code.test.ts',
      ]),
      // The compiled entry points and the real npm start, driven by grpcurl.
      project('e2e', ['test/e2e/**/*.test.ts']),
      project('tracing', ['test/tracing/**/*.test.ts']),
      project('storage', ['test/storage/**/*.test.ts']),
      project('k8s', ['test/k8s/**/*.test.ts']),
      // The image's install on the image's Node: once per CI run, not per Node version.
      project('install', ['test/production-install.test.ts']),
      // One mesh lab for all its files, one file at a time (test/mesh/lab-setup.ts).
      project('mesh', ['test/mesh/**/*.test.ts'], {
        globalSetup: ['test/global-setup.ts', 'test/mesh/lab-setup.ts'],
        fileParallelism: false,
      }),
    ],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Real servers and child processes on a 2-core machine: keep files from starving each other.
    maxWorkers: 2,
  },
});
