// The "Shop services" Grafana dashboard
// (k8s/components/monitoring/dashboards/shop-services.json): every panel
// query parses in the pinned Prometheus (a real server with an empty TSDB:
// promtool cannot parse a query offline), names only variables and recording
// rules that exist, and the local overlay provisions it the way the Grafana
// Helm chart's sidecar loads dashboards. Whether the queries return series
// after traffic is the mesh lab's check (dashboardQueries() there too).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { monitoringDir, ruleFiles } from '../../scripts/monitoring/component-files.js';
import {
  dashboard,
  dashboardFile,
  dashboardPanels,
  dashboardQueries,
  defaultDashboardValues,
} from '../support/dashboard-queries.js';
import { labels, ofKind, renderOverlay, text } from './manifests.js';
import { instantQuery, startEmptyPrometheus, type TestPrometheus } from './prometheus.js';

// Grafana's variable syntax, not a template literal.
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's ${datasource} variable.
const datasource = '${datasource}';

let work: string;
let prometheus: TestPrometheus;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'dashboard-'));
  prometheus = await startEmptyPrometheus(work);
});
afterAll(async () => {
  await prometheus?.stop();
  rmSync(work, { recursive: true, force: true });
});

it('has a data source variable that every panel and query uses', () => {
  const variables = dashboard().templating.list;
  expect(variables.find((v) => v.name === 'datasource')).toMatchObject({
    type: 'datasource',
    query: 'prometheus',
  });
  const raw = JSON.parse(readFileSync(dashboardFile, 'utf8'));
  const uids = JSON.stringify(raw).match(/"uid":"[^"]*"/g) ?? [];
  // The dashboard's own uid, then ${datasource} wherever a data source is named.
  expect(new Set(uids)).toEqual(new Set(['"uid":"shop-services"', `"uid":"${datasource}"`]));
  for (const panel of dashboardPanels().filter((p) => p.targets)) {
    expect((panel as { datasource?: unknown }).datasource, panel.title).toEqual({
      type: 'prometheus',
      uid: datasource,
    });
  }
});

it('declares every variable its queries use, and the helper substitutes each', () => {
  const declared = new Set(dashboard().templating.list.map((v) => v.name));
  const used = new Set(
    [...readFileSync(dashboardFile, 'utf8').matchAll(/\$\{?(\w+)/g)].map((m) => m[1] ?? ''),
  );
  used.delete('__rate_interval'); // Grafana's own
  used.delete('__all'); // the "All" value of a multi-value variable
  expect([...used].filter((name) => !declared.has(name))).toEqual([]);
  expect([...declared].filter((name) => name !== 'datasource').sort()).toEqual(
    Object.keys(defaultDashboardValues)
      .filter((key) => key !== 'rateInterval')
      .sort(),
  );
  const queries = dashboardQueries();
  expect(queries.length).toBeGreaterThanOrEqual(12);
  for (const { expr } of queries) expect(expr).not.toContain('$');
});

it('every panel query parses in the pinned Prometheus', async () => {
  const problems: string[] = [];
  for (const query of dashboardQueries()) {
    const answer = await instantQuery(prometheus.url, query.expr);
    if (answer.status !== 'success') {
      problems.push(`${query.panel} [${query.refId}]: ${answer.errorType}: ${answer.error}`);
    }
  }
  expect(problems).toEqual([]);
});

it('the parse check catches a broken query', async () => {
  const answer = await instantQuery(prometheus.url, 'sum by (rpc_method (rate(x[1m]))');
  expect(answer).toMatchObject({ status: 'error', errorType: 'bad_data' });
});

it('reads only recording rules that rules/ records', () => {
  const recorded = new Set(
    ruleFiles().flatMap((file) =>
      [...readFileSync(join(monitoringDir, file), 'utf8').matchAll(/record:\s*(\S+)/g)].map(
        (m) => m[1],
      ),
    ),
  );
  const read = dashboardQueries().flatMap(({ expr }) =>
    [...expr.matchAll(/[a-z_]+:[a-z_]+:[a-z0-9_]+/g)].map((m) => m[0]),
  );
  expect(read.length).toBeGreaterThan(0);
  expect(read.filter((name) => !recorded.has(name))).toEqual([]);
});

it('the local overlay provisions it in a ConfigMap the Grafana sidecar loads', () => {
  const configMap = ofKind(renderOverlay('local').objects, 'ConfigMap').find(
    (cm) => cm.metadata.name === 'shop-grafana-dashboards',
  );
  expect(labels(configMap, 'metadata', 'labels')).toEqual({ grafana_dashboard: '1' });
  expect(configMap?.metadata.namespace).toBe('monitoring');
  const json = text(configMap, 'data', 'shop-services.json') ?? '';
  expect(JSON.parse(json)).toEqual(dashboard());
  expect(json).toBe(readFileSync(dashboardFile, 'utf8'));
});
