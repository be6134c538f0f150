// Progressive delivery in the mesh lab (issue 10, docs/progressive-delivery.md):
// the real Argo Rollouts controller runs ProductService as a Rollout
// (k8s/overlays/lab-progressive), edits the weights of the real
// VirtualService that the real gateway and sidecars route by, and decides
// each step from the real Prometheus, which scrapes the pods through the
// sidecars' merged endpoints. Three releases, each under a steady client
// through the gateway: a good one (promoted), one whose creates fail with
// UNAVAILABLE (rolled back; the stock HTTP-code check passes it, which is
// the weakness the gRPC-aware analysis fixes), and one that never becomes
// ready (not promoted).
//
// The file switches the lab from the manual canary's two Deployments to the
// Rollout, and back after (the other mesh files expect the lab overlay).
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { AnalysisRun, Rollout, VirtualService } from '../../scripts/canary/rollout-types.js';
import { waitFor } from '../../scripts/mesh/processes.js';
import { dashboardQueries } from '../support/dashboard-queries.js';
import {
  asUser,
  call,
  kubectl,
  kubectlWithInput,
  prometheusUrl,
  promQuery,
  repo,
  sleep,
} from './lab-access.js';
import { type SteadyCounts, startSteadyClient } from './steady-client.js';

const gateway = inject('meshGateway');
const shop = (...args: string[]) => kubectl('-n', 'shop', ...args);
const json = <T>(...args: string[]) => JSON.parse(shop(...args, '-o', 'json')) as T;

const rollout = () => json<Rollout>('get', 'rollout', 'product-service');

/** The canary's weight on the `reads` route of product-service-routes, as the gateway routes by it. */
function canaryWeight(): number {
  const vs = json<VirtualService>('get', 'virtualservice', 'product-service-routes');
  const reads = vs.spec?.http?.find((r) => r.name === 'reads');
  return reads?.route?.find((d) => d.destination?.subset === 'canary')?.weight ?? 0;
}

function analysisRuns(hash: string): AnalysisRun[] {
  return json<{ items: AnalysisRun[] }>(
    'get',
    'analysisrun',
    '-l',
    `rollouts-pod-template-hash=${hash}`,
  ).items;
}

/** Each metric of a run: its phase and the values measured, for the test's log. */
const describeRun = (run: AnalysisRun) =>
  `${run.metadata.name} ${run.status?.phase}: ${(run.status?.metricResults ?? [])
    .map(
      (m) =>
        `${m.name}=${m.phase} [${(m.measurements ?? []).map((x) => x.value ?? x.phase).join(', ')}]`,
    )
    .join('; ')}`;

/**
 * A release: a change to the pod template the Rollout reads (the Deployment
 * product-service, kept at 0 replicas), as a person or a CI job makes it.
 */
function release(version: string, env: Record<string, string> = {}) {
  const patch = {
    spec: {
      template: {
        metadata: { labels: { version } },
        spec: {
          containers: [
            {
              name: 'product-service',
              // By name (a strategic merge); valueFrom: null drops a Secret reference.
              env: Object.entries(env).map(([name, value]) => ({ name, value, valueFrom: null })),
            },
          ],
        },
      },
    },
  };
  shop('patch', 'deployment', 'product-service', '-p', JSON.stringify(patch));
}

/** Polls the rollout every second until `done` says so; returns the weights seen and the time taken. */
async function follow(
  previousHash: string | undefined,
  done: (r: Rollout) => boolean,
  timeoutMs: number,
): Promise<{ rollout: Rollout; weights: number[]; seconds: number; hash: string }> {
  const started = performance.now();
  const weights: number[] = [];
  for (;;) {
    const r = rollout();
    const w = canaryWeight();
    if (weights.at(-1) !== w) weights.push(w);
    const hash = r.status?.currentPodHash;
    if (hash && hash !== previousHash && done(r)) {
      return { rollout: r, weights, seconds: (performance.now() - started) / 1000, hash };
    }
    if (performance.now() - started > timeoutMs) {
      throw new Error(
        `rollout not done after ${timeoutMs} ms: ${JSON.stringify(r.status)}; weights ${weights}`,
      );
    }
    await sleep(1000);
  }
}

const describeCounts = (c: SteadyCounts) =>
  `${c.total} calls in ${c.seconds.toFixed(0)} s, ${c.failed} failed (${((100 * c.failed) / c.total).toFixed(2)}%): ${JSON.stringify(c.byOutcome)}`;

let owner: { id: string; authorization: string };

describe('progressive delivery (Argo Rollouts + Prometheus)', () => {
  beforeAll(async () => {
    // From the manual canary's Deployments to the Rollout.
    shop(
      'delete',
      'deployment',
      'product-service-v1',
      'product-service-v2',
      '--ignore-not-found',
      '--wait=false',
    );
    kubectl('apply', '-k', `${repo}/k8s/overlays/lab-progressive`);
    await waitFor(
      'the Rollout healthy',
      async () => {
        const r = rollout();
        return r.status?.phase === 'Healthy' && Boolean(r.status.stableRS);
      },
      120_000,
      1000,
    );
    const username = `rollout${Date.now() % 1_000_000}`;
    const created = await call(gateway, 'shop.user.v1.UserService/CreateUser', {
      username,
      email: `${username}@example.com`,
    });
    expect(created.ok, created.out).toBe(true);
    const id = (JSON.parse(created.out) as { user: { id: string } }).user.id;
    owner = { id, authorization: asUser(id).authorization as string };
  }, 180_000);

  afterAll(async () => {
    // Back to the lab overlay: the Rollout and its ReplicaSets go, the two
    // Deployments, the subsets' version labels and the weights come back.
    shop('delete', 'rollout', 'product-service', '--wait=true', '--timeout=60s');
    shop('delete', 'deployment', 'product-service', '--ignore-not-found');
    kubectl('apply', '-k', `${repo}/k8s/overlays/lab`);
    for (const d of ['product-service-v1', 'product-service-v2']) {
      await waitFor(
        `${d} available`,
        async () => {
          const s = json<{ status?: { readyReplicas?: number } }>('get', 'deployment', d);
          return (s.status?.readyReplicas ?? 0) >= 1;
        },
        120_000,
        1000,
      );
    }
  }, 180_000);

  // A shop's mix: mostly reads, a create now and then (5%).
  const steady = () =>
    startSteadyClient(gateway, {
      readsPerSecond: 38,
      createsPerSecond: 2,
      ownerId: owner.id,
      authorization: owner.authorization,
    });

  it('a good release goes 10 → 25 → 50 → 100% with an analysis at each step, and the steady client sees no failed call', async () => {
    const before = rollout().status?.currentPodHash;
    const client = steady();
    release('v2');
    const result = await follow(
      before,
      (r) => r.status?.phase === 'Healthy' && r.status.stableRS === r.status.currentPodHash,
      300_000,
    );
    await sleep(2000);
    const counts = await client.stop();
    const runs = analysisRuns(result.hash);
    console.log(
      `good release promoted in ${result.seconds.toFixed(1)} s; canary weights seen ${result.weights.join(' → ')}\n` +
        `steady client: ${describeCounts(counts)}\n${runs.map(describeRun).join('\n')}`,
    );
    expect(result.rollout.status?.abort ?? false).toBe(false);
    for (const w of [10, 25, 50]) expect(result.weights).toContain(w);
    expect(runs.map((r) => r.status?.phase)).toEqual(['Successful', 'Successful', 'Successful']);
    expect(counts.failed, describeCounts(counts)).toBe(0);
    expect(canaryWeight()).toBe(0);
    // Prometheus saw the release's own series, by version.
    const v2 = await promQuery(
      'sum(rpc_server_call_duration_count{service_name="product-service",service_version="v2"})',
    );
    expect(v2.length).toBe(1);
  }, 360_000);

  it("Prometheus finds every service pod through the lab's API server and scrapes it through its sidecar, with the labels the analysis, rules and dashboard use", async () => {
    const targets = (
      (await (await fetch(`${prometheusUrl}/api/v1/targets?state=active`)).json()) as {
        data: {
          activeTargets: {
            scrapePool: string;
            scrapeUrl: string;
            health: string;
            labels: Record<string, string>;
          }[];
        };
      }
    ).data.activeTargets.filter((t) => t.scrapePool === 'kubernetes-pods');
    const pods = json<{ items: { metadata: { name: string; labels: Record<string, string> } }[] }>(
      'get',
      'pods',
    ).items.filter((p) =>
      ['user-service', 'product-service'].includes(p.metadata.labels.app ?? ''),
    );
    for (const pod of pods) {
      const target = targets.find((t) => t.labels.pod === pod.metadata.name);
      expect(target, pod.metadata.name).toBeDefined();
      // The injector rewrote the prometheus.io annotations to pilot-agent's
      // merged endpoint, the one port a STRICT mesh leaves in plaintext.
      expect(target?.scrapeUrl).toMatch(/^http:\/\/10\.244\.[0-9.]+:15020\/stats\/prometheus$/);
      expect(target?.labels).toMatchObject({
        namespace: 'shop',
        app: pod.metadata.labels.app,
        version: pod.metadata.labels.version,
        ...(pod.metadata.labels['rollouts-pod-template-hash']
          ? { rollouts_pod_template_hash: pod.metadata.labels['rollouts-pod-template-hash'] }
          : {}),
      });
    }
    expect(pods.length).toBeGreaterThanOrEqual(3);
    // The recording rules run on what was scraped, and the controller's own
    // series keep the Rollout's namespace.
    const recorded = await promQuery(
      'service_version_method_code:rpc_server_calls:rate5m{service_name="product-service", rpc_method="shop.product.v1.ProductService/ListProducts"}',
    );
    expect(recorded.map((r) => r.metric.service_version)).toContain('v2');
    const info = await promQuery('rollout_info{namespace="shop", name="product-service"}');
    expect(info).toHaveLength(1);
  });

  it("every query of the Grafana dashboard returns series from the lab's Prometheus after that release", async () => {
    const empty: string[] = [];
    for (const query of dashboardQueries()) {
      const result = await promQuery(query.expr);
      if (result.length === 0) empty.push(`${query.panel} (${query.refId}): ${query.expr}`);
    }
    expect(empty, `queries with no series:\n${empty.join('\n')}`).toEqual([]);
  });

  it('a release whose creates fail with UNAVAILABLE is rolled back at its first step; the stock HTTP-code check would have passed it', async () => {
    const before = rollout().status?.currentPodHash;
    const client = steady();
    const started = performance.now();
    // A realistic fault: a typo in the dependency's address. Its reads still
    // answer (owners come from its own read model), its creates cannot check
    // the owner with UserService and answer UNAVAILABLE.
    release('v3', { USER_SERVICE_ADDRESS: 'user-servce:50051' });
    const canary = await follow(before, () => true, 60_000);
    // The stock check, measured on the same canary while it takes traffic
    // (before and beside the gRPC-aware analysis's measurements).
    const stock = startStockCheck(canary.hash);
    const result = await follow(
      before,
      (r) => r.status?.abort === true && canaryWeight() === 0,
      240_000,
    );
    const rollbackSeconds = (performance.now() - started) / 1000;
    const stockRun = await waitForRun(stock, 120_000);
    await sleep(2000);
    const counts = await client.stop();
    const runs = analysisRuns(result.hash).filter((r) => r.metadata.name !== stock);
    console.log(
      `bad release rolled back ${rollbackSeconds.toFixed(1)} s after the release; canary weights seen ${result.weights.join(' → ')}\n` +
        `rollout: ${result.rollout.status?.message}\nsteady client: ${describeCounts(counts)}\n` +
        `${runs.map(describeRun).join('\n')}\nstock check: ${describeRun(stockRun)}`,
    );
    expect(result.rollout.status?.stableRS).toBe(before);
    expect(result.weights).not.toContain(25);
    const failedRun = runs.find((r) => r.status?.phase === 'Failed');
    expect(failedRun, runs.map(describeRun).join('\n')).toBeDefined();
    expect(
      failedRun?.status?.metricResults?.find((m) => m.name === 'server-error-ratio-over-stable')
        ?.phase,
    ).toBe('Failed');
    expect(counts.byOutcome['CreateProduct UNAVAILABLE'] ?? 0).toBeGreaterThan(0);
    expect(counts.failed / counts.total, describeCounts(counts)).toBeLessThan(0.01);
    // The weakness: every one of those failures was an HTTP 200.
    expect(stockRun.status?.phase, describeRun(stockRun)).toBe('Successful');
  }, 360_000);

  it('a release that never becomes ready is not promoted and takes no traffic', async () => {
    const before = rollout().status?.currentPodHash;
    const stable = rollout().status?.stableRS;
    const client = steady();
    // Its database is unreachable: readiness stays NOT_SERVING.
    release('v4', { DATABASE_URL: 'postgres://postgres@10.244.0.1:1/product_service' });
    const canary = await follow(before, () => true, 60_000);
    // Past the lab's progress deadline (60 s). Argo Rollouts 1.10 does not
    // abort here with Istio traffic routing (argoproj/argo-rollouts#4626:
    // the traffic-routing step waits for the canary to be available and
    // returns before the deadline is checked): the release just stays at
    // step 0, at weight 0, until someone aborts or fixes it.
    const watched = await follow(before, () => false, 90_000).catch((e: Error) => e.message);
    const r = rollout();
    const counts = await client.stop();
    console.log(
      `unready release ${canary.hash} after 90 s: ${r.status?.phase} at step ${r.status?.currentStepIndex}, ` +
        `${r.status?.message}\nsteady client: ${describeCounts(counts)}`,
    );
    expect(watched).toMatch(/weights 0$/);
    expect(r.status?.stableRS).toBe(stable);
    expect(r.status?.currentStepIndex ?? 0).toBe(0);
    expect(canaryWeight()).toBe(0);
    expect(analysisRuns(canary.hash).filter((run) => run.status?.phase === 'Successful')).toEqual(
      [],
    );
    expect(counts.failed, describeCounts(counts)).toBe(0);
  }, 240_000);
});

/**
 * An AnalysisRun of the stock HTTP-code template (k8s/components/progressive-lab,
 * NOT for use) on the canary `hash`, decided by its first measurement with
 * data: it starts at once and measures every 5 s (the lab's interval); a
 * measurement before the canary's first calls has no data (Error, retried),
 * so the first value comes a few seconds into the canary's 10%, before the
 * gRPC-aware analysis's first measurement (10 s into the step). A later one
 * would race the rollback: once the canary takes no calls, irate is NaN.
 */
function startStockCheck(hash: string): string {
  const template = json<{
    spec: { args: { name: string; value?: string }[]; metrics: unknown[] };
  }>('get', 'analysistemplate', 'stock-http-success-rate');
  const given: Record<string, string> = {
    namespace: 'shop',
    'service-name': 'product-service',
    'canary-hash': hash,
    'initial-delay': '0s',
    count: '1',
  };
  const name = `stock-check-${hash}-${Date.now() % 1_000_000}`;
  const run = {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AnalysisRun',
    metadata: { name, namespace: 'shop', labels: { 'rollouts-pod-template-hash': hash } },
    spec: {
      args: template.spec.args.map((a) => ({ name: a.name, value: given[a.name] ?? a.value })),
      metrics: template.spec.metrics,
    },
  };
  kubectlWithInput(JSON.stringify(run), 'create', '-f', '-');
  return name;
}

function waitForRun(name: string, timeoutMs: number): Promise<AnalysisRun> {
  return waitFor(
    `analysis ${name} to end`,
    async () => {
      const run = json<AnalysisRun>('get', 'analysisrun', name);
      const phase = run.status?.phase;
      return phase && !['Pending', 'Running'].includes(phase) ? run : undefined;
    },
    timeoutMs,
    1000,
  );
}
