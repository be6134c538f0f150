import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

const repo = resolve(import.meta.dirname, '..');

/**
 * Runs once before all test files: builds the pinned Go test peers into
 * .tools/bin (reused when already built) and compiles the services, because
 * end-to-end tests start the real entry points, not the TypeScript sources.
 */
export default function setup(): void {
  execFileSync(resolve(repo, 'scripts/install-tools.sh'), { cwd: repo, stdio: 'inherit' });
  execFileSync(
    process.execPath,
    [resolve(repo, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: repo,
      stdio: 'inherit',
    },
  );
}
