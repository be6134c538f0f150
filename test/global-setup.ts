import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

const repo = resolve(import.meta.dirname, '..');
const run = (command: string, args: string[] = []) =>
  execFileSync(command, args, { cwd: repo, stdio: 'inherit' });

/**
 * Runs once before all test files, so that nothing a test needs is missing
 * (tests never skip for a missing tool):
 * - the pinned Go test peers (grpcurl, Jaeger, istioctl, …) into .tools/bin,
 *   reused when already built;
 * - PostgreSQL server binaries for the storage tests, from the Debian packages
 *   when absent, unless PG_BIN or TEST_DATABASE_URL says where to find them;
 * - the compiled services, because end-to-end tests start the real entry
 *   points, not the TypeScript sources.
 */
export default function setup(): void {
  run(resolve(repo, 'scripts/install-tools.sh'));
  if (!process.env.PG_BIN && !process.env.TEST_DATABASE_URL) {
    run(resolve(repo, 'scripts/ci/install-postgres.sh'));
  }
  run(process.execPath, [
    resolve(repo, 'node_modules/typescript/bin/tsc'),
    '-p',
    'tsconfig.build.json',
  ]);
}
