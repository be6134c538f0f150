// `npm run canary -- status --rollout` / `watch` on recorded objects: the
// Rollout, AnalysisRuns and VirtualService that the pinned Argo Rollouts
// controller (v1.10.1) wrote while it rolled product-service out, recorded
// with `kubectl get -o json` (fixtures/; managedFields left out): a good
// release at its second analysis, promoted, then a release with no data and
// one with server errors, both aborted at their first analysis. Read
// through a stand-in kubectl.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CanaryError } from './canary-error.js';
import { latestAnalysisRun } from './rollout-read.js';
import {
  currentSetWeight,
  formatRolloutStatus,
  measuredValue,
  outcomeOf,
} from './rollout-status.js';
import type { AnalysisRun, Rollout, RolloutView, VirtualService } from './rollout-types.js';
import { isRolloutCommand, type RolloutIo, runRollout } from './run-rollout.js';

const fixture = <T>(name: string): T =>
  JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', `${name}.json`), 'utf8')) as T;

const progressing = () => fixture<Rollout>('rollout-progressing');
const aborted = () => fixture<Rollout>('rollout-aborted');
const noData = () => fixture<Rollout>('rollout-aborted-no-data');
const healthy = () => fixture<Rollout>('rollout-healthy');
const running = () => fixture<AnalysisRun>('analysisrun-running');
const noDataRun = () => fixture<AnalysisRun>('analysisrun-no-data');
/** Every AnalysisRun after the last abort: the good release's three, the two aborted ones. */
const allRuns = () => fixture<{ items: AnalysisRun[] }>('analysisruns-after-abort').items;
const routesAt = (canary: 0 | 25) => fixture<VirtualService>(`virtualservice-canary-${canary}`);
const deployment = () => fixture<RolloutView['workload']>('deployment');
/** The Deployment as it was when the controller wrote `rollout` (its generation then). */
const deploymentSeenBy = (rollout: Rollout): RolloutView['workload'] => {
  const d = deployment();
  if (d) d.metadata.generation = Number(rollout.status?.workloadObservedGeneration);
  return d;
};

describe('formatRolloutStatus', () => {
  it('shows the step, the weight it sets, the VirtualService’s weights and the running analysis', () => {
    const view: RolloutView = {
      rollout: progressing(),
      virtualServices: [routesAt(25)],
      analysisRun: running(),
      workload: deployment(),
    };
    expect(formatRolloutStatus(view)).toBe(
      [
        'product-service: Progressing, step 3/7 (analysis), setWeight 25',
        '  VirtualService product-service-routes: stable 75%, canary 25% (reads, creates, other)',
        '  pods: stable 74b75fb64b, canary 9f45fb78f (2 ready of 2, 1 updated)',
        '  analysis product-service-9f45fb78f-2-3: Running',
        '    canary-request-rate             Running     last 2.05 (2 measured)',
        '    p99-latency-over-stable         Running     last 0.00125 (2 measured)',
        '    server-error-ratio-over-stable  Running     last -0.00122 (2 measured)',
        '  message: waiting for all steps to complete',
        '',
      ].join('\n'),
    );
  });

  it('shows an aborted rollout, its failed metric and the controller’s reason', () => {
    const rollout = aborted();
    const text = formatRolloutStatus({
      rollout,
      virtualServices: [routesAt(0)],
      analysisRun: latestAnalysisRun(rollout, allRuns()),
    });
    expect(text).toContain(
      'product-service: Aborted (Degraded), step 0/7 (setWeight 10), setWeight 0\n',
    );
    expect(text).toContain('stable 100%, canary 0% (reads, creates, other)');
    expect(text).toContain(
      '  analysis product-service-544c7996c5-4-1: Failed (Metric "server-error-ratio-over-stable" ' +
        'assessed Failed due to failed (1) > failureLimit (0))',
    );
    expect(text).toContain(
      '    server-error-ratio-over-stable  Failed      last 0.5122 (1 measured, 1 failed)',
    );
    expect(text).toContain('  message: RolloutAborted: Rollout aborted update to revision 4');
  });

  it('shows a canary without data failing, not passing', () => {
    const text = formatRolloutStatus({
      rollout: noData(),
      virtualServices: [routesAt(0)],
      analysisRun: noDataRun(),
    });
    expect(text).toContain(
      'analysis product-service-588fcbbbb8-3-1: Failed (Metric "canary-request-rate" assessed ' +
        'Failed due to failed (1) > failureLimit (0))',
    );
    expect(text).toContain(
      '    canary-request-rate             Failed      last no data (1 measured, 1 failed)',
    );
  });

  it('says when the VirtualService does not have the weight the controller set, or a route', () => {
    const vs = routesAt(0);
    vs.spec?.http?.splice(2, 1); // no `creates`
    const text = formatRolloutStatus({ rollout: progressing(), virtualServices: [vs] });
    expect(text).toContain(
      'VirtualService product-service-routes: stable 100%, canary 0% (reads, other) ' +
        '(the controller set canary 25%); no route creates',
    );
    expect(text).toContain('  analysis: none yet');
    expect(formatRolloutStatus({ rollout: progressing(), virtualServices: [] })).toContain(
      'VirtualService product-service-routes: not found',
    );
  });

  it('shows a promoted rollout as one release at 100%', () => {
    const rollout = healthy();
    const text = formatRolloutStatus({
      rollout,
      virtualServices: [routesAt(0)],
      analysisRun: latestAnalysisRun(rollout, allRuns()),
    });
    expect(text).toContain('product-service: Healthy, step 7/7 (all steps done), setWeight 100\n');
    expect(text).toContain('  pods: release 9f45fb78f (2 ready of 2, 1 updated)');
    expect(text).toContain('  analysis product-service-9f45fb78f-2-5: Successful');
  });
});

describe('the figures', () => {
  it('computes the current setWeight as the controller does', () => {
    const r = progressing();
    const at = (index: number) =>
      currentSetWeight({ ...r, status: { ...r.status, currentStepIndex: index } });
    expect([0, 1, 2, 3, 4, 5, 6, 7].map(at)).toEqual([10, 10, 25, 25, 50, 50, 100, 100]);
    expect(currentSetWeight(aborted())).toBe(0);
  });

  it('shortens measured values and names an empty result', () => {
    expect(measuredValue('[-0.0012195121951219512]')).toBe('-0.00122');
    expect(measuredValue('[]')).toBe('no data');
    expect(measuredValue('[NaN]')).toBe('NaN');
    expect(measuredValue(undefined)).toBe('-');
  });

  it('picks the AnalysisRun the status names, else the newest of the current release', () => {
    expect(latestAnalysisRun(progressing(), allRuns())?.metadata.name).toBe(
      'product-service-9f45fb78f-2-3',
    );
    // Aborted: the status names no run; the release's own is the failed one.
    expect(latestAnalysisRun(aborted(), allRuns())?.metadata.name).toBe(
      'product-service-544c7996c5-4-1',
    );
    // Right after a release: no run of its own yet, so none (not the previous release's).
    const released = healthy();
    if (released.status) released.status.currentPodHash = '6b8d9c7f5';
    expect(latestAnalysisRun(released, allRuns())).toBeUndefined();
    const foreign = running();
    foreign.metadata.ownerReferences = [{ kind: 'Rollout', name: 'user-service' }];
    expect(latestAnalysisRun(progressing(), [foreign])).toBeUndefined();
  });
});

describe('outcomeOf', () => {
  it('is the end state once the controller has seen the Rollout and its Deployment', () => {
    expect(outcomeOf({ rollout: healthy(), virtualServices: [], workload: deployment() })).toBe(
      'Healthy',
    );
    const rollout = aborted();
    expect(outcomeOf({ rollout, virtualServices: [], workload: deploymentSeenBy(rollout) })).toBe(
      'Aborted',
    );
    // The same, before the controller saw the Deployment's latest generation.
    expect(outcomeOf({ rollout, virtualServices: [], workload: deployment() })).toBeUndefined();
    expect(
      outcomeOf({ rollout: progressing(), virtualServices: [], workload: deployment() }),
    ).toBeUndefined();
  });

  it('is not Healthy yet when the Deployment changed after the controller last looked', () => {
    const released = deployment();
    if (released) released.metadata.generation = 3;
    expect(
      outcomeOf({ rollout: healthy(), virtualServices: [], workload: released }),
    ).toBeUndefined();
  });
});

/** A kubectl that answers from the fixtures, one state after the other for the Rollout. */
function fakeKubectl(rollouts: Rollout[], calls: string[][] = []): RolloutIo['kubectl'] {
  let reads = 0;
  let current = rollouts[0];
  return (args) => {
    calls.push([...args]);
    const kind = args[args.indexOf('get') + 1];
    if (kind === 'rollouts.argoproj.io') {
      if (reads > 20) throw new Error('watch did not stop');
      current = rollouts[Math.min(reads++, rollouts.length - 1)];
      return current;
    }
    if (kind === 'virtualservices.networking.istio.io') return routesAt(25);
    if (kind === 'analysisruns.argoproj.io') return { items: allRuns() };
    if (kind === 'deployments.apps') return current && deploymentSeenBy(current);
    throw new CanaryError(`unexpected kubectl ${args.join(' ')}`);
  };
}

function io(kubectl: RolloutIo['kubectl']) {
  const out: string[] = [];
  const err: string[] = [];
  const sleeps: number[] = [];
  const value: RolloutIo = {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    kubectl,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    now: () => new Date('2026-12-02T05:14:05Z'),
  };
  return { io: value, out, err, sleeps };
}

describe('runRollout', () => {
  it('handles watch and status --rollout, and leaves every other command to the manual tool', () => {
    expect(isRolloutCommand(['watch'])).toBe(true);
    expect(isRolloutCommand(['--service', 'user-service', 'watch'])).toBe(true);
    expect(isRolloutCommand(['status', '--rollout'])).toBe(true);
    expect(isRolloutCommand(['status'])).toBe(false);
    expect(isRolloutCommand(['set', '10', '--apply', '--overlay', 'local'])).toBe(false);
    expect(isRolloutCommand(['start', 'v3', '--service', 'watch'])).toBe(false);
  });

  it('status --rollout reads once, with the kubeconfig and context given', async () => {
    const calls: string[][] = [];
    const run = io(fakeKubectl([progressing()], calls));
    const code = await runRollout(
      ['status', '--rollout', '--kubeconfig', '/lab/kubeconfig', '--context', 'mesh-lab'],
      run.io,
    );
    expect(code).toBe(0);
    expect(run.out.join('')).toContain('product-service: Progressing, step 3/7');
    expect(calls[0]).toEqual([
      '--kubeconfig=/lab/kubeconfig',
      '--context=mesh-lab',
      '-n',
      'shop',
      'get',
      'rollouts.argoproj.io',
      'product-service',
      '-o',
      'json',
    ]);
    expect(run.sleeps).toEqual([]);
  });

  it('watch reprints every 2 s until the rollout is Healthy (exit 0) or aborted (exit 3)', async () => {
    const good = io(fakeKubectl([progressing(), progressing(), healthy()]));
    expect(await runRollout(['watch'], good.io)).toBe(0);
    expect(good.out).toHaveLength(3);
    expect(good.out[0]).toMatch(/^\[05:14:05\] product-service: Progressing, step 3\/7/);
    expect(good.out[2]).toContain('Healthy');
    expect(good.sleeps).toEqual([2000, 2000]);

    const bad = io(fakeKubectl([progressing(), aborted()]));
    expect(await runRollout(['watch'], bad.io)).toBe(3);
    expect(bad.out[1]).toContain('Aborted (Degraded)');
  });

  it('reports a kubectl failure (exit 1) and bad arguments (exit 2)', async () => {
    const broken = io(() => {
      throw new CanaryError(
        'kubectl -n shop get rollouts.argoproj.io product-service failed: NotFound',
      );
    });
    expect(await runRollout(['status', '--rollout'], broken.io)).toBe(1);
    expect(broken.err.join('')).toContain('canary: kubectl -n shop get rollouts.argoproj.io');
    const usage = io(fakeKubectl([progressing()]));
    expect(await runRollout(['set', '10', '--rollout'], usage.io)).toBe(2);
    expect(await runRollout(['watch', '--overlay', 'lab'], usage.io)).toBe(2);
  });
});
