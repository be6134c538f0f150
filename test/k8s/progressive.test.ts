// Progressive delivery (k8s/components/progressive, docs/progressive-delivery.md):
// the overlays with a Rollout render, validate (manifests.test.ts runs
// kubeconform on them with the pinned Argo Rollouts CRDs), and what the
// Rollout names exists and fits (test/k8s/rollouts.ts). The last block
// breaks a copy to show each check can fail.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  get,
  type K8sObject,
  list,
  named,
  ofKind,
  overlayNames,
  renderOverlay,
  repoRoot,
  text,
} from './manifests.js';
import { analysisTemplateProblems, argoRolloutsCrds, progressiveProblems } from './rollouts.js';
import { buildSchemas, kubeconform } from './validators.js';

const progressive = ['progressive', 'lab-progressive'];

it('has the progressive overlays', () => {
  expect(overlayNames()).toEqual(expect.arrayContaining(progressive));
});

it('reads the Rollout and analysis CRDs from the pinned module', () => {
  const kinds = argoRolloutsCrds().map((crd) => text(crd, 'spec', 'names', 'kind'));
  expect(kinds).toEqual(expect.arrayContaining(['Rollout', 'AnalysisTemplate', 'AnalysisRun']));
});

describe.each(progressive)('overlay %s', (overlay) => {
  let objects: K8sObject[];

  beforeAll(() => {
    objects = renderOverlay(overlay).objects;
  });

  it('runs ProductService as a Rollout, its template in the Deployment at 0 replicas', () => {
    const rollout = named(objects, 'Rollout', 'product-service');
    expect(get(rollout, 'spec', 'workloadRef', 'name')).toBe('product-service');
    expect(get(named(objects, 'Deployment', 'product-service'), 'spec', 'replicas')).toBe(0);
    const versions = ofKind(objects, 'Deployment').filter((d) =>
      /^product-service-v/.test(d.metadata.name),
    );
    expect(versions).toEqual([]);
  });

  it('weights the named routes and subsets, 10 → 25 → 50 → 100 with an analysis between', () => {
    const rollout = named(objects, 'Rollout', 'product-service');
    const steps = list(rollout, 'spec', 'strategy', 'canary', 'steps').map(
      (step) =>
        get(step, 'setWeight') ?? text(get(step, 'analysis', 'templates', 0), 'templateName'),
    );
    expect(steps).toEqual([
      10,
      'grpc-canary-analysis',
      25,
      'grpc-canary-analysis',
      50,
      'grpc-canary-analysis',
      100,
    ]);
    const istio = get(rollout, 'spec', 'strategy', 'canary', 'trafficRouting', 'istio');
    expect(get(istio, 'virtualService')).toEqual({
      name: 'product-service-routes',
      routes: ['reads', 'creates', 'other'],
    });
    expect(get(istio, 'destinationRule')).toEqual({
      name: 'product-service',
      canarySubsetName: 'canary',
      stableSubsetName: 'stable',
    });
  });

  it('names only a workload, routes, subsets, templates and args that exist and fit', () => {
    expect(progressiveProblems(objects)).toEqual([]);
  });

  it('counts only server errors, by gRPC status, canary against stable by pod template hash', () => {
    const template = named(objects, 'AnalysisTemplate', 'grpc-canary-analysis');
    const query = (metric: string) =>
      text(
        list(template, 'spec', 'metrics').find((m) => text(m, 'name') === metric),
        'provider',
        'prometheus',
        'query',
      ) ?? '';
    const errors = query('server-error-ratio-over-stable');
    const codes = [...errors.matchAll(/rpc_status_code=~"([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(codes)).toEqual(
      new Set(['UNAVAILABLE|INTERNAL|UNKNOWN|DEADLINE_EXCEEDED|DATA_LOSS']),
    );
    for (const client of ['INVALID_ARGUMENT', 'NOT_FOUND', 'ALREADY_EXISTS', 'FAILED_PRECONDITION'])
      expect(errors).not.toContain(client);
    for (const metric of ['server-error-ratio-over-stable', 'p99-latency-over-stable']) {
      expect(query(metric)).toContain('rollouts_pod_template_hash="{{args.canary-hash}}"');
      expect(query(metric)).toContain('rollouts_pod_template_hash="{{args.stable-hash}}"');
    }
  });
});

it('points the lab at the lab’s Prometheus and leaves the cluster’s elsewhere', () => {
  const address = (overlay: string) =>
    get(
      list(
        named(renderOverlay(overlay).objects, 'AnalysisTemplate', 'grpc-canary-analysis'),
        'spec',
        'args',
      ).find((a) => text(a, 'name') === 'prometheus-address'),
      'value',
    );
  expect(address('lab-progressive')).toBe('http://127.0.0.1:29090');
  expect(address('progressive')).toBe('http://prometheus.monitoring.svc.cluster.local:9090');
});

describe('kubeconform with the pinned Argo Rollouts schemas', () => {
  let work: string;
  let schemas: string;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'k8s-progressive-'));
    schemas = buildSchemas(join(work, 'schemas'));
  }, 120_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  // What `npm run canary -- status --rollout` reads, as the pinned
  // controller wrote it: if a new release renamed a field, this fails.
  it('accepts the objects scripts/canary/fixtures/ recorded from the controller', () => {
    const dir = join(repoRoot, 'scripts/canary/fixtures');
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThanOrEqual(8);
    expect(kubeconform(dir, schemas)).toEqual([]);
  });

  it('rejects a misspelled Rollout field and a misspelled AnalysisTemplate field', () => {
    const yaml = renderOverlay('progressive').yaml;
    const edited = yaml
      .replace('scaleDown: never', 'scaleDwn: never')
      .replace('successCondition:', 'sucessCondition:');
    expect(edited).not.toBe(yaml);
    const file = join(work, 'broken.yaml');
    writeFileSync(file, edited);
    const problems = kubeconform(file, schemas).join('\n');
    expect(problems).toContain("'scaleDwn' not allowed");
    expect(problems).toContain("'sucessCondition' not allowed");
  });
});

describe('the progressive checks', () => {
  let base: K8sObject[];

  beforeAll(() => {
    base = renderOverlay('progressive').objects;
  });

  /** A deep copy of the progressive overlay's objects with one edit. */
  function broken(edit: (objects: K8sObject[]) => void): K8sObject[] {
    const copy = structuredClone(base);
    edit(copy);
    return copy;
  }

  const rolloutOf = (objects: K8sObject[]) => named(objects, 'Rollout', 'product-service');
  const istioOf = (objects: K8sObject[]) =>
    get(rolloutOf(objects), 'spec', 'strategy', 'canary', 'trafficRouting', 'istio') as Record<
      string,
      Record<string, unknown>
    >;

  it('report a route name the VirtualService does not have', () => {
    const objects = broken((o) => {
      (istioOf(o).virtualService as { routes: string[] }).routes[0] = 'read';
    });
    expect(progressiveProblems(objects)).toContain(
      'Rollout product-service: VirtualService product-service-routes has no route read',
    );
  });

  it('report a route that is not split between exactly the stable and canary subsets', () => {
    const objects = broken((o) => {
      (istioOf(o).virtualService as { routes: string[] }).routes.push('canary');
    });
    expect(progressiveProblems(objects).join('\n')).toContain(
      'route canary of product-service-routes must go to exactly the stable and canary subsets',
    );
  });

  it('report a subset name or DestinationRule that does not exist', () => {
    const subset = broken((o) => {
      istioOf(o).destinationRule = { ...istioOf(o).destinationRule, canarySubsetName: 'preview' };
    });
    expect(progressiveProblems(subset)).toContain(
      'DestinationRule product-service: no subset preview',
    );
    const rule = broken((o) => {
      istioOf(o).destinationRule = { ...istioOf(o).destinationRule, name: 'products' };
    });
    expect(progressiveProblems(rule)).toContain(
      'Rollout product-service: no DestinationRule products in shop',
    );
  });

  it('report a subset still selecting a version label', () => {
    const objects = broken((o) => {
      const rule = named(o, 'DestinationRule', 'product-service');
      (list(rule, 'spec', 'subsets')[1] as Record<string, unknown>).labels = { version: 'v2' };
    });
    expect(progressiveProblems(objects).join('\n')).toContain(
      'subset canary: selects a version label',
    );
  });

  it('report a workload that runs pods, selects on version, or is missing', () => {
    const running = broken((o) => {
      (named(o, 'Deployment', 'product-service').spec as Record<string, unknown>).replicas = 2;
    });
    expect(progressiveProblems(running).join('\n')).toContain('runs pods of its own');
    const missing = broken((o) => {
      named(o, 'Deployment', 'product-service').metadata.name = 'product-service-v1';
    });
    expect(progressiveProblems(missing)).toContain(
      'Rollout product-service: workloadRef names no Deployment product-service',
    );
  });

  it('report an analysis template that is missing, an arg not given, and a condition that passes on no data', () => {
    const template = broken((o) => {
      named(o, 'AnalysisTemplate', 'grpc-canary-analysis').metadata.name = 'other';
    });
    expect(progressiveProblems(template).join('\n')).toContain(
      'no AnalysisTemplate grpc-canary-analysis',
    );
    const arg = broken((o) => {
      const steps = list(rolloutOf(o), 'spec', 'strategy', 'canary', 'steps');
      const args = list(steps[1], 'analysis', 'args') as { name: string }[];
      args.splice(
        args.findIndex((a) => a.name === 'stable-hash'),
        1,
      );
    });
    expect(progressiveProblems(arg)).toContain(
      'Rollout product-service step 1: grpc-canary-analysis needs arg stable-hash, not given',
    );
    const condition = broken((o) => {
      const metric = list(
        named(o, 'AnalysisTemplate', 'grpc-canary-analysis'),
        'spec',
        'metrics',
      )[0];
      (metric as Record<string, unknown>).successCondition = 'result[0] >= 0.1';
    });
    expect(analysisTemplateProblems(condition).join('\n')).toContain('so that no data fails');
  });
});
