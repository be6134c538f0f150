// Reads a Rollout and what its status refers to from the cluster, with
// kubectl (`get -o json`), into a RolloutView for rollout-status.ts.
import { execFileSync } from 'node:child_process';
import { CanaryError } from './canary-error.js';
import type { AnalysisRun, Rollout, RolloutView, VirtualService } from './rollout-types.js';

/** Runs `kubectl <args>` and returns its parsed JSON output; throws CanaryError when it fails. */
export type KubectlJson = (args: readonly string[]) => unknown;

/** kubectl (or $KUBECTL), its output captured; stderr goes into the error. */
export const kubectlJson: KubectlJson = (args) => {
  const binary = process.env.KUBECTL ?? 'kubectl';
  let out: string;
  try {
    out = execFileSync(binary, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    // kubectl's last line says what went wrong (client-go logs retries before it).
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
    const reason = stderr.split('\n').at(-1) || (error as Error).message;
    throw new CanaryError(`${binary} ${args.join(' ')} failed: ${reason}`);
  }
  return JSON.parse(out) as unknown;
};

export interface Target {
  name: string;
  namespace: string;
  /** Extra kubectl options: --kubeconfig, --context. */
  kubectlOptions: string[];
}

/**
 * The AnalysisRun to show: the one the Rollout's status names, else the
 * newest the Rollout owns for its current release (its pod template hash):
 * between two steps the status names none, and right after a release the
 * newest run is still the previous release's, which would mislead.
 */
export function latestAnalysisRun(rollout: Rollout, runs: AnalysisRun[]): AnalysisRun | undefined {
  const release = rollout.status?.currentPodHash;
  const owned = runs.filter((run) =>
    (run.metadata.ownerReferences ?? []).some(
      (ref) =>
        ref.kind === 'Rollout' &&
        ref.name === rollout.metadata.name &&
        (ref.uid === undefined ||
          rollout.metadata.uid === undefined ||
          ref.uid === rollout.metadata.uid),
    ),
  );
  const current = rollout.status?.canary?.currentStepAnalysisRunStatus?.name;
  const named = owned.find((run) => run.metadata.name === current);
  if (named) return named;
  return owned
    .filter(
      (run) =>
        release === undefined || run.metadata.labels?.['rollouts-pod-template-hash'] === release,
    )
    .sort((a, b) =>
      (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? ''),
    )
    .at(-1);
}

export function readRolloutView(target: Target, kubectl: KubectlJson = kubectlJson): RolloutView {
  const get = (...args: string[]) =>
    kubectl([...target.kubectlOptions, '-n', target.namespace, 'get', ...args, '-o', 'json']);
  const rollout = get('rollouts.argoproj.io', target.name) as Rollout;
  const istio = rollout.spec?.strategy?.canary?.trafficRouting?.istio;
  const refs = [
    ...(istio?.virtualService ? [istio.virtualService] : []),
    ...(istio?.virtualServices ?? []),
  ];
  const virtualServices = refs.flatMap((ref) => {
    const [name = '', namespace = target.namespace] = (ref.name ?? '').split('.');
    return [
      kubectl([
        ...target.kubectlOptions,
        '-n',
        namespace,
        'get',
        'virtualservices.networking.istio.io',
        name,
        '-o',
        'json',
      ]) as VirtualService,
    ];
  });
  const runs = (get('analysisruns.argoproj.io') as { items?: AnalysisRun[] }).items ?? [];
  const ref = rollout.spec?.workloadRef;
  const workload =
    ref?.kind === 'Deployment' && ref.name
      ? (get('deployments.apps', ref.name) as RolloutView['workload'])
      : undefined;
  return { rollout, virtualServices, analysisRun: latestAnalysisRun(rollout, runs), workload };
}
