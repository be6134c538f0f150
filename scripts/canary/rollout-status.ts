// What `npm run canary -- status --rollout` and `watch` print about an Argo
// Rollout, from what the controller wrote (rollout-types.ts): its phase, the
// step it is at, the weight that step sets, the weights the VirtualService
// really has, and the latest analysis's figures. Pure: the tests feed it
// recorded objects (scripts/canary/fixtures/).
import type { AnalysisRun, MetricResult, Rollout, RolloutView } from './rollout-types.js';

const steps = (rollout: Rollout) => rollout.spec?.strategy?.canary?.steps ?? [];

/**
 * The weight the current step asks for, as the controller computes it
 * (utils/replicaset GetCurrentSetWeight): 0 once aborted, 100 once every
 * step is done, else the last setWeight at or before the current step.
 */
export function currentSetWeight(rollout: Rollout): number {
  if (rollout.status?.abort) return 0;
  const all = steps(rollout);
  const index = rollout.status?.currentStepIndex ?? 0;
  if (index >= all.length) return 100;
  for (let i = index; i >= 0; i--) {
    const weight = all[i]?.setWeight;
    if (weight !== undefined) return weight;
  }
  return 0;
}

function stepName(rollout: Rollout): string {
  const all = steps(rollout);
  const index = rollout.status?.currentStepIndex ?? 0;
  const step = all[index];
  if (!step) return 'all steps done';
  if (step.setWeight !== undefined) return `setWeight ${step.setWeight}`;
  if (step.analysis) return 'analysis';
  if (step.pause) return 'pause';
  return Object.keys(step)[0] ?? 'step';
}

/** The weighted routes the Rollout names, with the stable and canary weights each has. */
function routeWeights(view: RolloutView) {
  const istio = view.rollout.spec?.strategy?.canary?.trafficRouting?.istio;
  const stable = istio?.destinationRule?.stableSubsetName ?? 'stable';
  const canary = istio?.destinationRule?.canarySubsetName ?? 'canary';
  const named = [
    ...(istio?.virtualService ? [istio.virtualService] : []),
    ...(istio?.virtualServices ?? []),
  ];
  return named.map((ref) => {
    const vsName = (ref.name ?? '').split('.')[0];
    const vs = view.virtualServices.find((v) => v.metadata.name === vsName);
    const routes = (ref.routes ?? []).map((name) => {
      const route = vs?.spec?.http?.find((r) => r.name === name);
      const weight = (subset: string) =>
        route?.route?.find((d) => d.destination?.subset === subset)?.weight ?? 0;
      return { name, found: route !== undefined, stable: weight(stable), canary: weight(canary) };
    });
    return { vsName, found: vs !== undefined, routes };
  });
}

function trafficLines(view: RolloutView): string[] {
  const wanted = view.rollout.status?.canary?.weights?.canary?.weight;
  return routeWeights(view).map(({ vsName, found, routes }) => {
    if (!found) return `  VirtualService ${vsName}: not found`;
    const missing = routes.filter((r) => !r.found).map((r) => r.name);
    const present = routes.filter((r) => r.found);
    const splits = new Set(present.map((r) => `stable ${r.stable}%, canary ${r.canary}%`));
    const split =
      splits.size <= 1
        ? `${[...splits][0] ?? 'no weighted route'} (${present.map((r) => r.name).join(', ')})`
        : present.map((r) => `${r.name}: stable ${r.stable}%, canary ${r.canary}%`).join('; ');
    const lagging =
      wanted !== undefined && present.some((r) => r.canary !== wanted)
        ? ` (the controller set canary ${wanted}%)`
        : '';
    const absent = missing.length > 0 ? `; no route ${missing.join(', ')}` : '';
    return `  VirtualService ${vsName}: ${split}${lagging}${absent}`;
  });
}

function podsLine(rollout: Rollout): string {
  const s = rollout.status ?? {};
  const counts = `${s.readyReplicas ?? 0} ready of ${s.replicas ?? 0}, ${s.updatedReplicas ?? 0} updated`;
  if (!s.currentPodHash) return `  pods: ${counts}`;
  if (!s.stableRS || s.stableRS === s.currentPodHash) {
    return `  pods: release ${s.currentPodHash} (${counts})`;
  }
  return `  pods: stable ${s.stableRS}, canary ${s.currentPodHash} (${counts})`;
}

/** A measured value as the provider wrote it ("[0.0123]"), short; "no data" for an empty vector. */
export function measuredValue(value: string | undefined): string {
  if (value === undefined || value === '') return '-';
  const inner = value.replace(/^\[(.*)\]$/, '$1');
  if (inner === '') return 'no data';
  return inner
    .split(',')
    .map((v) => {
      const n = Number(v);
      return Number.isFinite(n) ? String(Number(n.toPrecision(4))) : v;
    })
    .join(', ');
}

function metricLine(metric: MetricResult, width: number): string {
  const last = metric.measurements?.at(-1);
  const counts = [
    `${metric.count ?? 0} measured`,
    ...(metric.failed ? [`${metric.failed} failed`] : []),
    ...(metric.error ? [`${metric.error} errors`] : []),
    ...(metric.inconclusive ? [`${metric.inconclusive} inconclusive`] : []),
  ].join(', ');
  const why =
    last?.message && (last.phase === 'Error' || last.phase === 'Failed') ? ` ${last.message}` : '';
  return (
    `    ${metric.name.padEnd(width)}  ${(metric.phase || 'Pending').padEnd(12)}` +
    `last ${measuredValue(last?.value)} (${counts})${why}`
  );
}

function analysisLines(run: AnalysisRun | undefined): string[] {
  if (!run) return ['  analysis: none yet'];
  const metrics = run.status?.metricResults ?? [];
  const width = Math.max(0, ...metrics.map((m) => m.name.length));
  return [
    `  analysis ${run.metadata.name}: ${run.status?.phase || 'Pending'}` +
      (run.status?.message ? ` (${run.status.message})` : ''),
    ...metrics.map((m) => metricLine(m, width)),
  ];
}

export function phaseOf(rollout: Rollout): string {
  const phase = rollout.status?.phase ?? 'not reconciled yet';
  return rollout.status?.abort ? `Aborted (${phase})` : phase;
}

/** The status block for one Rollout. */
export function formatRolloutStatus(view: RolloutView): string {
  const { rollout } = view;
  const total = steps(rollout).length;
  const index = rollout.status?.currentStepIndex ?? 0;
  const lines = [
    `${rollout.metadata.name}: ${phaseOf(rollout)}, step ${Math.min(index, total)}/${total} ` +
      `(${stepName(rollout)}), setWeight ${currentSetWeight(rollout)}`,
    ...trafficLines(view),
    podsLine(rollout),
    ...analysisLines(view.analysisRun),
  ];
  if (rollout.status?.message) lines.push(`  message: ${rollout.status.message}`);
  return `${lines.join('\n')}\n`;
}

export type Outcome = 'Healthy' | 'Degraded' | 'Aborted';

/**
 * How the rollout ended, once the controller has seen the latest spec and
 * workload template (a release the controller has not picked up yet still
 * shows the previous Healthy): undefined while it is still going.
 */
export function outcomeOf(view: RolloutView): Outcome | undefined {
  const { rollout, workload } = view;
  const status = rollout.status;
  if (!status) return undefined;
  const seen =
    status.observedGeneration === String(rollout.metadata.generation ?? '') &&
    (!rollout.spec?.workloadRef ||
      status.workloadObservedGeneration === String(workload?.metadata.generation ?? ''));
  if (!seen) return undefined;
  if (status.abort) return 'Aborted';
  if (status.phase === 'Healthy' || status.phase === 'Degraded') return status.phase;
  return undefined;
}
