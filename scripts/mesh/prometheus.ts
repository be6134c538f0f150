// Prometheus for the mesh lab: the real, pinned prometheus (tools/prometheus)
// on the host at 127.0.0.1:29090, scraping the lab's pods the way it would in
// a cluster: Kubernetes service discovery (here against the lab's API server,
// through its kubeconfig) and the scrape job of
// k8s/components/monitoring/prometheus.yml, with its recording rules and SLO
// alerts loaded. The host reaches the pods' addresses on the lab bridge.
//
// Its config is derived from the component's file, never written twice: the
// same jobs and relabeling, plus only what the lab needs
// (labPrometheusConfig). What is scraped is what the analysis templates and
// the dashboard read, so the lab tests the real rules and relabeling.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isSeq } from 'yaml';
import { monitoringDir, prometheusConfig, ruleFiles } from '../monitoring/component-files.js';
import { kubeconfigPath, ports, stateDir, tool } from './lab.js';
import { type Started, start, waitFor } from './processes.js';

export const prometheusUrl = `http://127.0.0.1:${ports.prometheus}`;

export interface LabPrometheusOptions {
  /** The kubeconfig service discovery uses (default: the lab's, .mesh-lab/kubeconfig). */
  kubeconfig?: string;
  /**
   * Scrape and rule-evaluation interval (default 2s, not the component's
   * 15s): a canary step in the lab lasts seconds to a minute, and its
   * analysis must see several samples in that time.
   */
  interval?: string;
  /**
   * Static scrape jobs for programs the lab runs on the host rather than as
   * pods, by job name. Default: the Argo Rollouts controller
   * (scripts/mesh/rollouts.ts) at its metrics port, as job `argo-rollouts`
   * (the component's job of that name finds the controller's pods, and the
   * lab has none).
   */
  staticJobs?: Record<string, string[]>;
}

/**
 * The lab's prometheus.yml, as YAML text: the component's, with
 * `kubeconfig_file` added to every kubernetes_sd_config, the lab's interval,
 * the rule files by absolute path (the config is written elsewhere) and the
 * static jobs. Edited as a YAML document, so the component's comments stay.
 */
export function labPrometheusConfig(options: LabPrometheusOptions = {}): string {
  const interval = options.interval ?? '2s';
  const staticJobs = options.staticJobs ?? {
    'argo-rollouts': [`127.0.0.1:${ports.rolloutsMetrics}`],
  };
  const doc = prometheusConfig();
  doc.setIn(['global', 'scrape_interval'], interval);
  // Must not exceed the interval (Prometheus' default timeout is 10s).
  doc.setIn(['global', 'scrape_timeout'], interval);
  doc.setIn(['global', 'evaluation_interval'], interval);
  doc.set(
    'rule_files',
    ruleFiles().map((file) => join(monitoringDir, file)),
  );
  const jobs = doc.get('scrape_configs');
  if (!isSeq(jobs)) throw new Error('prometheus.yml: no scrape_configs');
  for (const job of jobs.items) {
    if (!isMap(job)) continue;
    const discovery = job.get('kubernetes_sd_configs');
    if (!isSeq(discovery)) continue;
    for (const sd of discovery.items) {
      if (isMap(sd)) sd.set('kubeconfig_file', options.kubeconfig ?? kubeconfigPath);
    }
    // A static job of the same name (the controller on the host) replaces
    // the cluster's, keeping its other settings (honor_labels).
    const targets = staticJobs[String(job.get('job_name'))];
    if (targets) {
      job.delete('kubernetes_sd_configs');
      job.delete('relabel_configs');
      job.set('static_configs', doc.createNode([{ targets }]));
    }
  }
  for (const [name, targets] of Object.entries(staticJobs)) {
    if (jobs.items.some((job) => isMap(job) && job.get('job_name') === name)) continue;
    jobs.add(doc.createNode({ job_name: name, static_configs: [{ targets }] }));
  }
  doc.commentBefore = ` The mesh lab's Prometheus config, written by scripts/mesh/prometheus.ts
 from k8s/components/monitoring/prometheus.yml (edit that one).
${doc.commentBefore ?? ''}`;
  return doc.toString({ lineWidth: 0 });
}

export interface PrometheusFiles {
  /** Where the config file and the TSDB go. */
  dir: string;
  /** host:port for the HTTP API. */
  listen: string;
}

/** Writes the lab config into `dir` and returns the command line that runs Prometheus on it. */
export function prometheusArgs(
  files: PrometheusFiles,
  options: LabPrometheusOptions = {},
): string[] {
  mkdirSync(join(files.dir, 'data'), { recursive: true });
  const config = join(files.dir, 'prometheus.yml');
  writeFileSync(config, labPrometheusConfig(options));
  return [
    `--config.file=${config}`,
    `--storage.tsdb.path=${join(files.dir, 'data')}`,
    // The lab lives for minutes to hours; a day is plenty, and bounds the disk.
    '--storage.tsdb.retention.time=1d',
    `--web.listen-address=${files.listen}`,
    '--log.format=json',
  ];
}

/** Prometheus on 127.0.0.1:29090, storage in .mesh-lab/prometheus. */
export function startPrometheus(options: LabPrometheusOptions = {}): Started {
  const dir = join(stateDir, 'prometheus');
  return start(
    'prometheus',
    tool('prometheus'),
    prometheusArgs({ dir, listen: `127.0.0.1:${ports.prometheus}` }, options),
    { cwd: dir, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: stateDir } },
  );
}

/** True once /-/ready answers 200 (config loaded, TSDB open, rules running). */
export async function prometheusReady(url = prometheusUrl): Promise<boolean> {
  try {
    const response = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2000) });
    return response.status === 200;
  } catch {
    return false;
  }
}

export async function waitPrometheus(url = prometheusUrl): Promise<void> {
  await waitFor('prometheus /-/ready', () => prometheusReady(url), 60_000, 250);
}
