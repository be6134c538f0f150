import type { BenchReport, BenchRow } from './bench-report.js';

const key = (row: BenchRow) => `${row.rpc} | ${row.variant} | ${row.target}`;
const fixed = (value: number | undefined, digits: number) =>
  value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(digits);
const change = (before: number | undefined, after: number | undefined) =>
  before && after !== undefined && Number.isFinite(before) && Number.isFinite(after)
    ? `${after >= before ? '+' : ''}${(((after - before) / before) * 100).toFixed(0)}%`
    : '-';

/**
 * Each row of `current` beside the same RPC and target in `previous`:
 * calls/s, CPU per call, p99 and the ratio to the baseline, then and now.
 * The ratios are the figures to compare across machines and runs; absolute
 * figures only on the same quiet machine.
 */
export function compareReports(previous: BenchReport, current: BenchReport): string {
  const before = new Map(previous.rows.map((row) => [key(row), row]));
  const lines = current.rows.map((row) => {
    const old = before.get(key(row));
    return [
      key(row).padEnd(56),
      `calls/s ${fixed(old?.callsPerSecond, 0)} → ${fixed(row.callsPerSecond, 0)} (${change(old?.callsPerSecond, row.callsPerSecond)})`,
      `cpu µs/call ${fixed(old?.cpuUsPerCall, 0)} → ${fixed(row.cpuUsPerCall, 0)} (${change(old?.cpuUsPerCall, row.cpuUsPerCall)})`,
      `p99 ms ${fixed(old?.p99Ms, 2)} → ${fixed(row.p99Ms, 2)}`,
      `×base ${fixed(old?.ratio?.callsPerSecond, 2)} → ${fixed(row.ratio?.callsPerSecond, 2)}`,
      `×cpu ${fixed(old?.ratio?.cpuPerCall, 2)} → ${fixed(row.ratio?.cpuPerCall, 2)}`,
    ].join('  ');
  });
  const startup = current.startup.map((figure) => {
    const old = previous.startup.find(
      (s) => s.service === figure.service && s.telemetry === figure.telemetry,
    );
    return `${`${figure.service} start-up, telemetry ${figure.telemetry}`.padEnd(56)}  ms ${fixed(old?.medianMs, 0)} → ${fixed(figure.medianMs, 0)} (${change(old?.medianMs, figure.medianMs)})`;
  });
  return [
    `compared with the run of ${previous.started} (node ${previous.node}, load average ${fixed(previous.loadAverage.before, 2)})`,
    ...startup,
    ...lines,
  ].join('\n');
}
