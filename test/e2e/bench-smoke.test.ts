// The benchmark's own code path, run briefly (about a second per run) so that
// `npm run bench` cannot rot: the services and the bare baseline under ghz,
// pinned, measured from /proc, the report as JSON, the table and a
// comparison. It asserts the report's shape and that every figure is there,
// never how fast anything is: speed is what `npm run bench` itself is for.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { type BenchReport, formatReport } from '../../scripts/bench/bench-report.js';
import { compareReports } from '../../scripts/bench/compare-reports.js';
import { runBench } from '../../scripts/bench/run-bench.js';
import { repo } from '../../scripts/lib/child-process.js';
import { POD_MEMORY_LIMIT_BYTES } from '../../scripts/lib/pod-memory-limit.js';

const withBaseline = ['GetUser', 'GetUser at half rate', 'ListProducts (50/page)', 'CreateUser'];

beforeAll(() => {
  // The e2e setup builds dist/ and grpcurl; the bench also needs ghz.
  execFileSync(join(repo, 'scripts/install-tools.sh'), ['ghz'], { stdio: 'inherit' });
});

it('runs every RPC against the services and the baseline and reports them side by side', async () => {
  const report = JSON.parse(
    JSON.stringify(
      await runBench({
        duration: '1s',
        warmup: '0s',
        concurrency: 10,
        variants: ['export off'],
        rpcs: [...withBaseline, 'GetProduct'],
        owners: 10,
        startupRuns: 1,
        prepare: false,
      }),
    ),
  ) as BenchReport;

  expect(report.startup.map((s) => `${s.service} ${s.telemetry}`)).toEqual([
    'user on',
    'user off',
    'product on',
    'product off',
  ]);
  for (const figure of report.startup) expect(figure.medianMs).toBeGreaterThan(0);
  expect(report.rows.map((r) => `${r.rpc} | ${r.target}`).sort()).toEqual(
    [
      ...withBaseline.flatMap((rpc) => [`${rpc} | baseline`, `${rpc} | services`]),
      'GetProduct | services',
    ].sort(),
  );
  for (const row of report.rows) {
    expect(row.variant).toBe('export off');
    expect(row.statuses.OK, `${row.rpc} ${row.target}`).toBeGreaterThan(0);
    expect(row.callsPerSecond).toBeGreaterThan(0);
    expect(row.p99Ms).toBeGreaterThanOrEqual(row.p50Ms);
    expect(row.cpuUsPerCall).toBeGreaterThan(0);
    for (const rss of Object.values(row.rssMb)) expect(rss.after).toBeGreaterThan(10);
    if (row.target === 'baseline' || row.rpc === 'GetProduct') {
      expect(row.ratio).toBeUndefined();
    } else {
      expect(row.ratio?.callsPerSecond).toBeGreaterThan(0);
      expect(row.ratio?.cpuPerCall).toBeGreaterThan(0);
      expect(row.ratio?.p99).toBeGreaterThan(0);
    }
  }
  const halfRate = report.rows.find((r) => r.rpc === 'GetUser at half rate');
  expect(halfRate?.rate).toBeGreaterThan(0);

  const table = formatReport(report);
  for (const rpc of withBaseline) expect(table).toContain(rpc);
  expect(compareReports(report, report)).toContain('GetUser | export off | services');
}, 180_000);

it('runs the on-request variants: both services on PostgreSQL, and under the pods’ memory limit', async () => {
  const report = await runBench({
    duration: '1s',
    warmup: '0s',
    concurrency: 10,
    variants: ['postgres', 'pod memory limit'],
    rpcs: ['CreateUser'],
    owners: 10,
    startupRuns: 0,
    prepare: false,
  });
  expect(report.variants).toEqual([
    { variant: 'postgres', dialect: { user: 'postgres', product: 'postgres' } },
    {
      variant: 'pod memory limit',
      dialect: { user: 'sqlite', product: 'sqlite' },
      memoryLimitBytes: POD_MEMORY_LIMIT_BYTES,
    },
  ]);
  expect(report.rows.map((r) => `${r.variant} | ${r.target}`)).toEqual([
    'postgres | baseline',
    'postgres | services',
    'pod memory limit | baseline',
    'pod memory limit | services',
  ]);
  for (const row of report.rows) {
    expect(row.statuses.OK, `${row.variant} ${row.target}`).toBeGreaterThan(0);
    expect(row.cpuUsPerCall).toBeGreaterThan(0);
  }
}, 180_000);
