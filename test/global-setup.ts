import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import type { TestProject } from 'vitest/node';

const repo = resolve(import.meta.dirname, '..');
const run = (command: string, args: string[] = []) =>
  execFileSync(command, args, { cwd: repo, stdio: 'inherit' });

type Need = 'dist' | 'postgres' | `tool:${string}`;

/**
 * What each project's tests need before they start (tests never skip for a
 * missing tool): the pinned test peers in .tools/ (Go tools built once and
 * reused while their module is unchanged, Kafka's jars fetched once by
 * Maven), PostgreSQL server binaries (installed from Debian's packages when
 * absent, unless PG_BIN or TEST_DATABASE_URL says where they are), and the
 * compiled services in dist/ (end-to-end tests start the real entry points,
 * not the TypeScript sources).
 */
const needs: Record<string, Need[]> = {
  unit: [],
  e2e: ['dist', 'tool:grpcurl', 'tool:ghz', 'tool:envoy'],
  tracing: ['dist', 'postgres', 'tool:grpcurl', 'tool:jaeger', 'tool:kafka'],
  storage: ['dist', 'postgres', 'tool:kafka'],
  k8s: ['tool:kubeconform', 'tool:istioctl', 'tool:prometheus'],
  install: [],
  mesh: [
    'dist',
    'postgres',
    'tool:grpcurl',
    'tool:ghz',
    'tool:jaeger',
    'tool:etcd',
    'tool:kubernetes',
    'tool:istiod',
    'tool:istioctl',
    'tool:envoy',
    'tool:argo-rollouts',
    'tool:prometheus',
  ],
};

// Each project runs its setup; what one already did in this run is not redone.
const done = new Set<string>((process.env.SHOP_TEST_SETUP_DONE ?? '').split(',').filter(Boolean));

function once(need: string, step: () => void): void {
  if (done.has(need)) return;
  step();
  done.add(need);
  process.env.SHOP_TEST_SETUP_DONE = [...done].join(',');
}

export default function setup(project: TestProject): void {
  const wanted = needs[project.name];
  if (!wanted) throw new Error(`test/global-setup.ts: no needs listed for project ${project.name}`);
  const tools = wanted.filter((n) => n.startsWith('tool:')).map((n) => n.slice('tool:'.length));
  const missing = tools.filter((tool) => !done.has(`tool:${tool}`));
  if (missing.length > 0) {
    run(resolve(repo, 'scripts/install-tools.sh'), missing);
    for (const tool of missing) done.add(`tool:${tool}`);
    process.env.SHOP_TEST_SETUP_DONE = [...done].join(',');
  }
  if (wanted.includes('postgres') && !process.env.PG_BIN && !process.env.TEST_DATABASE_URL) {
    once('postgres', () => run(resolve(repo, 'scripts/ci/install-postgres.sh')));
  }
  if (wanted.includes('dist')) {
    once('dist', () =>
      run(process.execPath, [
        resolve(repo, 'node_modules/typescript/bin/tsc'),
        '-p',
        'tsconfig.build.json',
      ]),
    );
  }
}
