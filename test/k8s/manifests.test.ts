// Every overlay renders with kubectl kustomize, and what it renders passes
// strict schema validation (Kubernetes 1.32 and Istio's CRDs; Strimzi's
// kinds, which have none offline, are checked by kafka.test.ts), `istioctl
// analyze --use-kube=false` and `istioctl validate` with zero findings. The
// last block proves each validator does catch a mistake, so a clean result
// means something.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ofKind, overlayNames, type Rendered, renderOverlay, repoRoot } from './manifests.js';
import { strimziKinds } from './strimzi.js';
import { istioInstall } from './tools.js';
import {
  buildSchemas,
  istioctlAnalyze,
  istioctlValidate,
  kubeconform,
  validateYaml,
} from './validators.js';

let work: string;
let schemas: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'k8s-manifests-'));
  schemas = buildSchemas(join(work, 'schemas'));
}, 120_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

it('has a local and a production overlay', () => {
  expect(overlayNames()).toEqual(expect.arrayContaining(['local', 'production']));
});

/** The YAML files of k8s/base and k8s/components, relative to the repository. */
/** The services' manifests: the base and the components their pods use (not the Jaeger). */
function baseYamlFiles(): string[] {
  return ['k8s/base', 'k8s/components/service-pod'].flatMap((dir) =>
    readdirSync(join(repoRoot, dir), { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.yaml'))
      .map((file) => relative(repoRoot, join(repoRoot, dir, file))),
  );
}

// House style: manifests exist once. Both services' pods share these settings;
// a second copy of any of them is a copy that will drift.
it.each([
  'readinessProbe',
  'startupProbe',
  'livenessProbe',
  'preStop',
  'terminationGracePeriodSeconds',
  'terminationDrainDuration',
  'SHUTDOWN_GRACE',
  'seccompProfile',
  'readOnlyRootFilesystem',
  'K8S_POD_NAME',
  'SERVICE_VERSION',
])('writes the shared pod setting %s once, in k8s/base or k8s/components', (setting) => {
  // The setting as a key (`readinessProbe:`), an env entry (`name: SHUTDOWN_GRACE`)
  // or what a JSON patch adds (`path: /spec/…/readinessProbe`).
  const written = new RegExp(
    `^\\s*(- )?(${setting}:|name: ${setting}$|path: \\S*/${setting}$)`,
    'm',
  );
  const files = baseYamlFiles().filter((file) =>
    written.test(readFileSync(join(repoRoot, file), 'utf8')),
  );
  expect(files).toEqual([expect.stringMatching(/^k8s\/components\/service-pod\//)]);
});

describe.each(overlayNames())('overlay %s', (overlay) => {
  let rendered: Rendered;

  beforeAll(() => {
    rendered = renderOverlay(overlay);
  });

  it('renders the services, their mesh policy and the mesh-wide tracing', () => {
    const kinds = new Set(rendered.objects.map((o) => o.kind));
    for (const kind of [
      'Namespace',
      'ServiceAccount',
      'Service',
      'Deployment',
      'PodDisruptionBudget',
      'PeerAuthentication',
      'AuthorizationPolicy',
      'DestinationRule',
      'VirtualService',
      'Gateway',
      'Telemetry',
    ]) {
      expect(kinds, kind).toContain(kind);
    }
    for (const object of rendered.objects) {
      if (object.kind !== 'Namespace')
        expect(object.metadata.namespace, object.metadata.name).toBeTruthy();
    }
  });

  it('passes every validator with zero findings', () => {
    // Strimzi's kinds have no schema offline; kafka.test.ts checks them (strimzi.ts).
    expect(validateYaml(rendered.yaml, join(work, overlay), schemas, strimziKinds)).toEqual([]);
  });
});

describe('the validators', () => {
  let base: Rendered;
  let dir: string;

  beforeAll(() => {
    base = renderOverlay('local');
    dir = join(work, 'broken');
  });

  /** The local overlay with one edit, written to a file. */
  function broken(edit: (yaml: string) => string): string {
    const yaml = edit(base.yaml);
    expect(yaml).not.toBe(base.yaml);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'broken.yaml');
    writeFileSync(file, yaml);
    return file;
  }

  it('kubeconform rejects a misspelled Kubernetes field and a misspelled Istio field', () => {
    const file = broken((y) =>
      y
        .replace('revisionHistoryLimit:', 'revisionHistoryLimt:')
        .replace('perTryTimeout:', 'perTryTimout:'),
    );
    const problems = kubeconform(file, schemas).join('\n');
    expect(problems).toContain("'revisionHistoryLimt' not allowed");
    expect(problems).toContain("'perTryTimout' not allowed");
  });

  it('kubeconform rejects a field newer than Kubernetes 1.32 (lifecycle.stopSignal, 1.33)', () => {
    const file = broken((y) =>
      y.replace('lifecycle:\n', 'lifecycle:\n          stopSignal: SIGTERM\n'),
    );
    expect(kubeconform(file, schemas).join('\n')).toContain("'stopSignal' not allowed");
  });

  it('istioctl analyze reports a route to a subset no DestinationRule defines', () => {
    const file = broken((y) => y.replace('subset: canary', 'subset: preview'));
    expect(istioctlAnalyze(file, dir).join('\n')).toContain('IST0101');
  });

  it('istioctl validate reports a Deployment without a version label', () => {
    const file = broken((y) => y.replaceAll(/version: v1$/gm, 'track: v1'));
    expect(istioctlValidate(file).join('\n')).toContain(
      'may not provide Istio metrics and telemetry labels',
    );
  });

  it('the Istio CRDs come from the pinned istioctl', () => {
    expect(ofKind(istioInstall().objects, 'CustomResourceDefinition').length).toBeGreaterThan(10);
  });
});
