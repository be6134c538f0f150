// Runs the pinned validators over a rendered YAML stream and returns what
// they report, one line per finding (empty when they find nothing).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  goModuleDir,
  kubernetesModule,
  schemaLocation,
  writeCrdSchemas,
  writeKubernetesSchemas,
} from './json-schemas.js';
import { isObject, ofKind, parseObjects, text } from './manifests.js';
import { argoRolloutsCrds } from './rollouts.js';
import { istioInstall, run, toolPath, writeMeshConfig } from './tools.js';

/**
 * Findings the project accepts, each about one named object. Istio warns on
 * every EnvoyFilter (IST0133: it patches Envoy's config directly); the
 * gateway's, mesh/gateway-filters.yaml and the generated
 * mesh/gateway-transcoder.yaml, are kept on purpose (no Istio API sets a
 * local rate limit or a gRPC-JSON transcoder), and test/k8s/gateway.test.ts
 * and gateway-transcoder.test.ts pin what they do.
 */
const acceptedFindings = [
  /^IST0133 Warning EnvoyFilter istio-system\/shop-gateway(-transcoder|-subject-limit)?: /,
  /^\* EnvoyFilter\/istio-system\/shop-gateway(-transcoder|-subject-limit)?: EnvoyFilter exposes internal implementation details/,
];
const accepted = (finding: string) => acceptedFindings.some((re) => re.test(finding));

/** Builds kubeconform's schemas into `dir` (about a second) and returns `dir`. */
export function buildSchemas(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const swagger = join(goModuleDir(kubernetesModule), 'api/openapi-spec/swagger.json');
  const kinds = writeKubernetesSchemas(swagger, dir);
  const crds = writeCrdSchemas(ofKind(istioInstall().objects, 'CustomResourceDefinition'), dir);
  // Argo Rollouts' CRDs from the module tools/argo-rollouts pins (the
  // progressive overlays' Rollout and AnalysisTemplates).
  const argo = writeCrdSchemas(argoRolloutsCrds(), dir);
  if (kinds < 100 || crds < 10 || argo < 4)
    throw new Error(`only ${kinds} Kubernetes, ${crds} Istio and ${argo} Argo Rollouts schemas`);
  return dir;
}

/**
 * kubeconform in strict mode: every object must have a schema (none is
 * skipped) and match it, unknown fields included. `unvalidated` names the
 * kinds (`group/version/Kind`) that have no schema we can build offline
 * (./strimzi.ts says why); exactly the objects of those kinds are skipped,
 * and whoever passes them checks those objects another way.
 */
export function kubeconform(
  file: string,
  schemas: string,
  unvalidated: readonly string[] = [],
): string[] {
  const result = run(toolPath('kubeconform'), [
    '-strict',
    '-summary',
    '-output',
    'json',
    '-schema-location',
    schemaLocation(schemas),
    ...(unvalidated.length > 0 ? ['-skip', unvalidated.join(',')] : []),
    file,
  ]);
  const report = JSON.parse(result.stdout) as {
    resources: { kind: string; name: string; status: string; msg: string }[];
    summary: { valid: number; invalid: number; errors: number; skipped: number };
  };
  const problems = report.resources.map((r) => `${r.kind} ${r.name}: ${r.status} ${r.msg}`);
  const expected = unvalidated.length > 0 ? countOfKinds(file, unvalidated) : 0;
  if (report.summary.skipped !== expected) {
    problems.push(`${report.summary.skipped} objects skipped, ${expected} expected`);
  }
  if (report.summary.valid === 0) problems.push('kubeconform validated nothing');
  if (result.status !== 0 && problems.length === 0) problems.push(result.stderr);
  return problems;
}

/** How many objects in a YAML file are of one of `kinds` (`group/version/Kind`). */
function countOfKinds(file: string, kinds: readonly string[]): number {
  return parseObjects(readFileSync(file, 'utf8')).filter((o) =>
    kinds.includes(`${o.apiVersion}/${o.kind}`),
  ).length;
}

/**
 * `istioctl analyze --use-kube=false` over every namespace (without
 * --all-namespaces it looks at `default` only, and finds nothing), with the
 * mesh config from mesh/istio-install.yaml, failing on Info and up.
 */
export function istioctlAnalyze(file: string, workDir: string): string[] {
  const meshConfig = writeMeshConfig(join(workDir, 'mesh-config.yaml'));
  const result = run(toolPath('istioctl'), [
    'analyze',
    '--use-kube=false',
    '--all-namespaces',
    '--meshConfigFile',
    meshConfig,
    '--failure-threshold',
    'Info',
    '--output',
    'json',
    file,
  ]);
  const messages = JSON.parse(result.stdout || '[]') as unknown[];
  const findings = messages.map((m) =>
    isObject(m)
      ? `${text(m, 'code')} ${text(m, 'level')} ${text(m, 'origin')}: ${text(m, 'message')}`
      : String(m),
  );
  const problems = findings.filter((f) => !accepted(f));
  if (result.status !== 0 && findings.length === 0) problems.push(result.stderr.trim());
  return problems;
}

/**
 * `istioctl validate`: Istio's own validation of its resources (stricter
 * than the CRD schemas) and its checks on Deployments and Services (app and
 * version labels, port names). It prints warnings but exits 0, so anything
 * but the "is valid" line counts.
 */
export function istioctlValidate(file: string): string[] {
  const result = run(toolPath('istioctl'), ['validate', '-f', file]);
  const lines = `${result.stdout}\n${result.stderr}`
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && line !== `"${file}" is valid`);
  if (result.status !== 0 && lines.length === 0) lines.push(`exit ${result.status}`);
  const problems = lines.filter((line) => !accepted(line));
  // The "has warnings:" heading alone, once its warnings were all accepted.
  return problems.length === 1 && problems[0] === `"${file}" has warnings:` ? [] : problems;
}

/** Writes `yaml` to `workDir` and runs every validator on it (`unvalidated`: as for kubeconform). */
export function validateYaml(
  yaml: string,
  workDir: string,
  schemas: string,
  unvalidated: readonly string[] = [],
): string[] {
  mkdirSync(workDir, { recursive: true });
  const file = join(workDir, 'rendered.yaml');
  writeFileSync(file, yaml);
  return [
    ...kubeconform(file, schemas, unvalidated).map((p) => `kubeconform: ${p}`),
    ...istioctlAnalyze(file, workDir).map((p) => `istioctl analyze: ${p}`),
    ...istioctlValidate(file).map((p) => `istioctl validate: ${p}`),
  ];
}
