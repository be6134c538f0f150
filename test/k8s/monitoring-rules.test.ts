// k8s/components/monitoring: the scrape config and the rules pass promtool's
// checks, the rules pass their unit tests (rules/*.test.yml: recording-rule
// values, the fast-burn alert firing on 2% server errors and not on client
// errors or 0.05%), one set of codes is "server error" everywhere, and the
// Prometheus Operator's copies (operator/) are current and valid against the
// Operator's own CRDs. The last block proves promtool catches a broken rule,
// so a pass means something.
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { monitoringDir, ruleFiles } from '../../scripts/monitoring/component-files.js';
import { operatorManifests, shopApps } from '../../scripts/monitoring/operator-manifests.js';
import { dashboardFile } from '../support/dashboard-queries.js';
import { serverErrorRegex } from '../support/grpc-server-errors.js';
import { goModuleDir, writeCrdSchemas } from './json-schemas.js';
import {
  labels,
  list,
  ofKind,
  parseObjects,
  renderWithComponent,
  repoRoot,
  selects,
  text,
} from './manifests.js';
import { output, promtool } from './prometheus.js';
import { buildSchemas, kubeconform } from './validators.js';

/** The Operator's CRDs ship in its module (example/prometheus-operator-crd/). */
const prometheusOperatorModule = {
  path: 'github.com/prometheus-operator/prometheus-operator',
  // The newest release the module proxy serves (v0.94.2 and v0.95.x answer
  // 403 "not available" there); PodMonitor and PrometheusRule are v1, stable.
  version: 'v0.94.1',
  sum: 'h1:QEIb2wenPH+SdMN1xMf8l4Pmj00YYXXI6HlbLlQWkww=',
} as const;

const testFiles = () =>
  readdirSync(join(monitoringDir, 'rules'))
    .filter((file) => file.endsWith('.test.yml'))
    .map((file) => `rules/${file}`);

let work: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'monitoring-rules-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

it('promtool check rules passes on every rule file prometheus.yml loads', () => {
  expect(ruleFiles()).toEqual(['rules/recording.yml', 'rules/slo-alerts.yml']);
  const result = promtool(['check', 'rules', ...ruleFiles()], monitoringDir);
  expect(result.status, output(result)).toBe(0);
});

it('promtool check config passes on prometheus.yml, rule files included', () => {
  const result = promtool(['check', 'config', 'prometheus.yml'], monitoringDir);
  expect(result.status, output(result)).toBe(0);
  expect(result.stdout).toContain(`SUCCESS: ${ruleFiles().length} rule files found`);
});

it('promtool test rules passes every rules/*.test.yml', () => {
  expect(testFiles()).toEqual(['rules/recording.test.yml', 'rules/slo-alerts.test.yml']);
  const result = promtool(['test', 'rules', ...testFiles()], monitoringDir);
  expect(result.status, output(result)).toBe(0);
  expect(result.stdout.match(/SUCCESS/g)).toHaveLength(testFiles().length);
});

it('counts exactly the server-error codes as errors, in every rule, panel and canary analysis', () => {
  const files = [
    ...ruleFiles().map((file) => join(monitoringDir, file)),
    dashboardFile,
    join(repoRoot, 'k8s/components/progressive/grpc-canary-analysis.yaml'),
    ...operatorManifests().map((file) => join(repoRoot, file.path)),
  ];
  let matchers = 0;
  for (const file of files) {
    // JSON escapes the quotes: rpc_status_code=~\"…\".
    const source = readFileSync(file, 'utf8').replaceAll('\\"', '"');
    for (const [, codes] of source.matchAll(/rpc_status_code\s*=~\s*"([^"]*)"/g)) {
      expect(codes, relative(repoRoot, file)).toBe(serverErrorRegex);
      matchers++;
    }
  }
  expect(matchers).toBeGreaterThan(10);
});

it('the committed Prometheus Operator objects are generated from the plain files', () => {
  for (const file of operatorManifests()) {
    expect(
      readFileSync(join(repoRoot, file.path), 'utf8'),
      `${file.path} is stale: run npx tsx scripts/monitoring-operator.ts`,
    ).toBe(file.text);
  }
});

describe('with the Prometheus Operator (local overlay + monitoring/operator)', () => {
  let file: string;
  let schemas: string;
  let objects: ReturnType<typeof parseObjects>;

  beforeAll(() => {
    // The opt-in component added to the local overlay, as a user would.
    const rendered = renderWithComponent(
      join(work, 'with-operator'),
      'overlays/local',
      'components/monitoring/operator',
    );
    objects = rendered.objects;
    file = join(work, 'with-operator.yaml');
    writeFileSync(file, rendered.yaml);
    schemas = buildSchemas(join(work, 'schemas'));
    const crdDir = join(goModuleDir(prometheusOperatorModule), 'example/prometheus-operator-crd');
    const crds = ['podmonitors', 'prometheusrules'].flatMap((name) =>
      parseObjects(readFileSync(join(crdDir, `monitoring.coreos.com_${name}.yaml`), 'utf8')),
    );
    expect(writeCrdSchemas(crds, schemas)).toBeGreaterThanOrEqual(2);
  }, 120_000);

  it('renders a PodMonitor and a PrometheusRule per rule file', () => {
    expect(ofKind(objects, 'PodMonitor').map((o) => o.metadata.name)).toEqual(['shop-services']);
    expect(ofKind(objects, 'PrometheusRule').map((o) => o.metadata.name)).toEqual([
      'shop-recording',
      'shop-slo-alerts',
    ]);
  });

  it('passes kubeconform, strict, against the Operator CRDs', () => {
    expect(kubeconform(file, schemas)).toEqual([]);
  });

  it('kubeconform rejects a misspelled PodMonitor field', () => {
    const broken = join(work, 'broken-pod-monitor.yaml');
    writeFileSync(broken, readFileSync(file, 'utf8').replace('sourceLabels:', 'sourceLabel:'));
    expect(kubeconform(broken, schemas).join('\n')).toContain("'sourceLabel' not allowed");
  });

  it('the PodMonitor selects the pods of every shop Deployment, on their http-metrics port', () => {
    const monitor = ofKind(objects, 'PodMonitor')[0];
    const namespaces = list(monitor, 'spec', 'namespaceSelector', 'matchNames');
    const apps = list(monitor, 'spec', 'selector', 'matchExpressions', 0, 'values');
    expect(apps).toEqual(shopApps);
    expect(text(monitor, 'spec', 'podMetricsEndpoints', 0, 'port')).toBe('http-metrics');
    const deployments = ofKind(objects, 'Deployment').filter(
      (d) => d.metadata.namespace === 'shop',
    );
    expect(deployments.length).toBeGreaterThan(1);
    for (const deployment of deployments) {
      const pod = labels(deployment, 'spec', 'template', 'metadata', 'labels');
      expect(namespaces).toContain(deployment.metadata.namespace);
      expect(apps.some((app) => selects({ app: String(app) }, pod))).toBe(true);
      const ports = list(deployment, 'spec', 'template', 'spec', 'containers', 0, 'ports');
      expect(ports.map((p) => text(p, 'name'))).toContain('http-metrics');
    }
  });
});

describe('promtool catches a broken rule', () => {
  /** A copy of the component with one edit to one file. */
  function broken(file: string, edit: (source: string) => string): string {
    const copy = join(work, `broken-${Math.random().toString(36).slice(2)}`);
    cpSync(monitoringDir, copy, { recursive: true });
    const path = join(copy, file);
    const before = readFileSync(path, 'utf8');
    const after = edit(before);
    expect(after).not.toBe(before);
    writeFileSync(path, after);
    return copy;
  }

  it('a syntax error fails check rules, check config and test rules', () => {
    const dir = broken('rules/recording.yml', (s) =>
      s.replace('sum by (service_name)', 'sum bye ('),
    );
    const check = promtool(['check', 'rules', ...ruleFiles()], dir);
    expect(check.status).not.toBe(0);
    expect(output(check)).toContain('parse error');
    expect(promtool(['check', 'config', 'prometheus.yml'], dir).status).not.toBe(0);
    expect(promtool(['test', 'rules', ...testFiles()], dir).status).not.toBe(0);
  });

  it('counting NOT_FOUND as a server error fails the unit tests (it is a valid rule)', () => {
    const dir = broken('rules/recording.yml', (s) =>
      s.replaceAll('|DATA_LOSS"', '|DATA_LOSS|NOT_FOUND"'),
    );
    expect(promtool(['check', 'rules', ...ruleFiles()], dir).status).toBe(0);
    const result = promtool(['test', 'rules', ...testFiles()], dir);
    expect(result.status).not.toBe(0);
    expect(output(result)).toContain('client errors never burn the budget');
  });

  it('a fast-burn threshold of 30 instead of 14.4 fails the unit tests', () => {
    const dir = broken('rules/slo-alerts.yml', (s) => s.replaceAll('14.4 * 0.001', '30 * 0.001'));
    const result = promtool(['test', 'rules', 'rules/slo-alerts.test.yml'], dir);
    expect(result.status).not.toBe(0);
    expect(output(result)).toContain('alertname: ErrorBudgetBurn1h');
  });
});
