// The pinned Prometheus and promtool (tools/prometheus), built into
// .tools/bin by the test global setup: promtool for the rule and config
// checks, and a real prometheus on a free port with its own TSDB in a temp
// folder, for what only a server checks (a query parses; a target gets the
// labels the relabeling promises).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { baseEnv, type Child, spawnChild } from '../../scripts/lib/child-process.js';
import { freePort } from '../../scripts/lib/free-port.js';
import { prometheusReady } from '../../scripts/mesh/prometheus.js';
import { repoRoot } from './manifests.js';
import { type Run, run } from './tools.js';

export function prometheusTool(name: 'prometheus' | 'promtool'): string {
  const path = join(repoRoot, '.tools/bin', name);
  if (!existsSync(path)) {
    throw new Error(
      `${path} is missing: run scripts/install-tools.sh prometheus (it pins the build)`,
    );
  }
  return path;
}

export function promtool(args: readonly string[], cwd = repoRoot): Run {
  return run(prometheusTool('promtool'), args, cwd);
}

/** What promtool printed, for a failure message. */
export const output = (result: Run) =>
  `promtool exited ${result.status}:\n${result.stdout}${result.stderr}`;

export interface TestPrometheus {
  url: string;
  child: Child;
  stop(): Promise<void>;
}

/**
 * Runs prometheus with the arguments `args` makes for a free `host:port`
 * (its --web.listen-address) until /-/ready answers.
 */
export async function startTestPrometheus(
  args: (listen: string) => readonly string[],
): Promise<TestPrometheus> {
  const listen = `127.0.0.1:${await freePort()}`;
  const url = `http://${listen}`;
  const child = spawnChild('prometheus', prometheusTool('prometheus'), args(listen), {
    env: baseEnv(),
  });
  const until = Date.now() + 30_000;
  while (!(await prometheusReady(url))) {
    if (!child.running) throw new Error(`prometheus exited:\n${child.tail()}`);
    if (Date.now() > until) throw new Error(`prometheus not ready in 30 s:\n${child.tail()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    child,
    async stop() {
      await child.stop();
    },
  };
}

/** A Prometheus with an empty TSDB in `dir` that scrapes nothing: a PromQL parser with an API. */
export function startEmptyPrometheus(dir: string): Promise<TestPrometheus> {
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'prometheus.yml');
  writeFileSync(config, 'global: {}\n');
  return startTestPrometheus((listen) => [
    `--config.file=${config}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=${listen}`,
    '--log.format=json',
  ]);
}

export interface QueryAnswer {
  status: 'success' | 'error';
  errorType?: string;
  error?: string;
  data?: { resultType: string; result: { metric: Record<string, string>; value?: unknown }[] };
}

/** POST /api/v1/query: an instant query, answered as Prometheus answers it. */
export async function instantQuery(url: string, query: string): Promise<QueryAnswer> {
  const response = await fetch(`${url}/api/v1/query`, {
    method: 'POST',
    body: new URLSearchParams({ query }),
  });
  return (await response.json()) as QueryAnswer;
}
