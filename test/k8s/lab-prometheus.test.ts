// The mesh lab's Prometheus (scripts/mesh/prometheus.ts), offline: its
// config is the component's prometheus.yml with the lab's kubeconfig, interval
// and rule paths, promtool accepts it, and the real prometheus run on it
// starts and serves /-/ready with no API server at all. What it discovers
// and scrapes through the lab's real API server and sidecars is checked in
// the mesh lab (test/mesh/progressive.test.ts).

import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { freePort } from '../../scripts/lib/free-port.js';
import { labPrometheusConfig, prometheusArgs } from '../../scripts/mesh/prometheus.js';
import { list, text } from './manifests.js';
import { output, promtool, startTestPrometheus } from './prometheus.js';

let work: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'lab-prometheus-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function kubeconfig(file: string, server: string): string {
  writeFileSync(
    file,
    `apiVersion: v1
kind: Config
clusters: [{name: lab, cluster: {server: "${server}"}}]
users: [{name: lab, user: {}}]
contexts: [{name: lab, context: {cluster: lab, user: lab}}]
current-context: lab
`,
  );
  return file;
}

describe('the lab config', () => {
  it('is the component config with the lab kubeconfig, a 2 s interval and absolute rule paths', () => {
    const config = parse(labPrometheusConfig({ kubeconfig: '/lab/kubeconfig' }));
    expect(config.global).toMatchObject({
      scrape_interval: '2s',
      scrape_timeout: '2s',
      evaluation_interval: '2s',
    });
    const ruleFiles = config.rule_files as string[];
    expect(ruleFiles).toHaveLength(2);
    for (const file of ruleFiles) expect(isAbsolute(file) && existsSync(file), file).toBe(true);
    const jobs = list(config, 'scrape_configs');
    const pods = jobs.find((job) => text(job, 'job_name') === 'kubernetes-pods');
    expect(list(pods, 'kubernetes_sd_configs')).toEqual([
      { role: 'pod', kubeconfig_file: '/lab/kubeconfig' },
    ]);
    // The controller runs on the host in the lab: a static target in place of discovery.
    const rollouts = jobs.find((job) => text(job, 'job_name') === 'argo-rollouts');
    expect(rollouts).toMatchObject({
      honor_labels: true,
      static_configs: [{ targets: [expect.stringMatching(/^127\.0\.0\.1:\d+$/)] }],
    });
    expect(rollouts).not.toHaveProperty('kubernetes_sd_configs');
  });

  it('passes promtool check config', () => {
    const dir = join(work, 'check');
    const args = prometheusArgs(
      { dir, listen: '127.0.0.1:0' },
      { kubeconfig: kubeconfig(join(work, 'kubeconfig-check'), 'https://127.0.0.1:1') },
    );
    const file = args.find((a) => a.startsWith('--config.file='))?.split('=')[1] ?? '';
    const result = promtool(['check', 'config', file]);
    expect(result.status, output(result)).toBe(0);
  });
});

it('starts and serves /-/ready with no API server to discover from', async () => {
  const closed = await freePort();
  const dir = join(work, 'no-apiserver');
  const prometheus = await startTestPrometheus((listen) =>
    prometheusArgs(
      { dir, listen },
      { kubeconfig: kubeconfig(join(work, 'kubeconfig-none'), `http://127.0.0.1:${closed}`) },
    ),
  );
  try {
    const rules = (await (await fetch(`${prometheus.url}/api/v1/rules`)).json()) as {
      data: { groups: { name: string }[] };
    };
    expect(rules.data.groups.map((g) => g.name)).toEqual([
      'shop-rpc-server',
      'shop-slo-sli',
      'shop-slo-availability',
    ]);
  } finally {
    await prometheus.stop();
  }
});
