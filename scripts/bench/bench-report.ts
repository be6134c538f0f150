import type { StartupFigure } from './measure-startup.js';
import type { LayerShare } from './profile-layers.js';
import type { SpanCounts } from './span-counts.js';

/** One measured run of one RPC against one target. */
export interface BenchRow {
  /** `GetUser`, `ListProducts (50/page)`, … */
  rpc: string;
  /** The telemetry variant the run belongs to (its services', or the pair's for the baseline). */
  variant: string;
  /** The bare baseline or our services. */
  target: 'baseline' | 'services';
  /** Calls answered OK per second of the run. */
  callsPerSecond: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  /** Every call by status, as ghz counted them (the last in flight show as Unavailable). */
  statuses: Record<string, number>;
  /** Server CPU time (user + system, every server process of the target) per OK call. */
  cpuUsPerCall: number;
  /** CPU seconds by process over the run. */
  cpuSeconds: Record<string, number>;
  /** RSS by process before and after the run, in MB. */
  rssMb: Record<string, { before: number; after: number }>;
  /** Over the run, summed over the services; undefined when spans are not exported. */
  spans?: SpanCounts;
  /** A fixed request rate (calls/s), when the run was not at saturation. */
  rate?: number;
  /** Against the baseline's run just before it (same RPC, same variant), when it has one. */
  ratio?: { callsPerSecond: number; cpuPerCall: number; p99: number };
}

/** How a variant's services ran, as they said at start. */
export interface BenchVariantSetup {
  variant: string;
  /** The SQL dialect each service reported (its `schema up to date` log line). */
  dialect: { user: string; product: string };
  /** The memory cgroup's limit each ran under, if any. */
  memoryLimitBytes?: number;
}

/** A service's CPU profile over a variant's runs (`--profile DIR`), split by layer. */
export interface BenchProfile {
  variant: string;
  service: 'user' | 'product';
  /** The .cpuprofile file: open it in Chrome DevTools or speedscope for the detail. */
  path: string;
  layers: LayerShare[];
}

/** What `npm run bench -- --json FILE` writes, and `--compare FILE` reads. */
export interface BenchReport {
  /** ISO time the run started. */
  started: string;
  node: string;
  cpus: number;
  /** 1-minute load average before and after: how busy the machine was. */
  loadAverage: { before: number; after: number };
  /** Where servers and ghz ran; undefined when nothing was pinned. */
  pinned?: { server: string; load: string };
  duration: string;
  concurrency: number;
  startup: StartupFigure[];
  /** Absent in reports written before it was added. */
  variants?: BenchVariantSetup[];
  rows: BenchRow[];
  profiles?: BenchProfile[];
}

const fixed = (value: number | undefined, digits: number) =>
  value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(digits);

function table(headers: string[], lines: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]?.length ?? 0)));
  const render = (cells: string[]) =>
    cells.map((c, i) => (i < 3 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [render(headers), ...lines.map(render)].join('\n');
}

/** The side-by-side table, as `npm run bench` prints it. */
export function formatReport(report: BenchReport): string {
  const pinned = report.pinned
    ? `servers on cpu ${report.pinned.server}, ghz on cpu ${report.pinned.load}`
    : 'not pinned';
  const header = [
    `node ${report.node}, ${report.cpus} cpus (${pinned}), load average ${fixed(report.loadAverage.before, 2)} → ${fixed(report.loadAverage.after, 2)}`,
    `${report.duration} per run, ${report.concurrency} calls in flight over one connection`,
    // Older reports (--compare) have no setups.
    ...(report.variants ?? []).map(
      (v) =>
        `variant ${v.variant}: user-service on ${v.dialect.user}, product-service on ${v.dialect.product}` +
        (v.memoryLimitBytes
          ? `, each under a ${v.memoryLimitBytes / 2 ** 20} MiB memory cgroup`
          : ''),
    ),
  ].join('\n');
  const startup = table(
    ['service', 'telemetry', 'exec→SERVING median ms', 'runs'],
    report.startup.map((s) => [s.service, s.telemetry, fixed(s.medianMs, 0), s.runs.join(' ')]),
  );
  const rows = table(
    [
      'rpc',
      'variant',
      'target',
      'calls/s',
      '×base',
      'p50 ms',
      'p95 ms',
      'p99 ms',
      '×p99',
      'cpu µs/call',
      '×cpu',
      'rss MB before→after',
      'spans exported/dropped',
    ],
    report.rows.map((row) => [
      row.rate ? `${row.rpc} @ ${fixed(row.rate, 0)}/s` : row.rpc,
      row.variant,
      row.target,
      fixed(row.callsPerSecond, 0),
      fixed(row.ratio?.callsPerSecond, 2),
      fixed(row.p50Ms, 2),
      fixed(row.p95Ms, 2),
      fixed(row.p99Ms, 2),
      fixed(row.ratio?.p99, 2),
      fixed(row.cpuUsPerCall, 0),
      fixed(row.ratio?.cpuPerCall, 2),
      Object.entries(row.rssMb)
        .map(([name, rss]) => `${name} ${fixed(rss.before, 0)}→${fixed(rss.after, 0)}`)
        .join(', '),
      row.spans ? `${row.spans.exported}/${row.spans.dropped}` : '-',
    ]),
  );
  const profiles = (report.profiles ?? []).map(
    (p) =>
      `cpu profile, ${p.variant}, ${p.service}-service (${p.path}):\n${table(
        ['layer', '', 'ms', 'share'],
        p.layers.map((l) => [l.layer, '', fixed(l.ms, 0), `${fixed(l.share * 100, 1)}%`]),
      )}`,
  );
  return [header, startup, rows, ...profiles].join('\n\n').concat('\n');
}
