import type { BenchRow } from './bench-report.js';
import type { BenchScenario } from './bench-scenarios.js';
import { readProcessStats } from './process-stats.js';
import { runGhz } from './run-ghz.js';
import { readSpanCounts, type SpanCounts } from './span-counts.js';

/** A server under load: its addresses, and the processes whose CPU and memory count. */
export interface BenchTarget {
  /** `baseline` or `services`. */
  name: BenchRow['target'];
  address: Record<BenchScenario['service'], string>;
  pids: Record<string, number>;
  /** Prometheus endpoints to count spans on; empty when spans are not exported. */
  metricsUrls: string[];
}

export interface RunSettings {
  variant: string;
  protoset: string;
  duration: string;
  /** `0s` for none. */
  warmup: string;
  concurrency: number;
  /** taskset list for ghz. */
  loadCpus?: string;
  /** A fixed rate in calls/s; default: saturation. */
  rate?: number;
}

const mb = (bytes: number) => bytes / 2 ** 20;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let runNumber = 0;

async function sumSpans(urls: string[]): Promise<SpanCounts> {
  const counts = await Promise.all(urls.map(readSpanCounts));
  return counts.reduce(
    (a, b) => ({ exported: a.exported + b.exported, dropped: a.dropped + b.dropped }),
    { exported: 0, dropped: 0 },
  );
}

const statsOf = (pids: Record<string, number>) =>
  Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, readProcessStats(pid)]));

/**
 * One row: an unmeasured warm-up, then a measured ghz run with the target's
 * CPU time and memory read from /proc before and after, and the spans its
 * services finished with over the run.
 */
export async function measureRun(
  target: BenchTarget,
  scenario: BenchScenario,
  settings: RunSettings,
): Promise<BenchRow> {
  const ghz = (duration: string, tag: string) =>
    runGhz({
      address: target.address[scenario.service],
      call: scenario.call,
      // Unique per run, so creates never collide with an earlier run's.
      data: scenario.data(`b${Date.now().toString(36)}${tag}${runNumber++}`),
      protoset: settings.protoset,
      duration,
      concurrency: settings.concurrency,
      rps: settings.rate,
      cpus: settings.loadCpus,
    });
  if (settings.warmup !== '0s') await ghz(settings.warmup, 'w');
  const spansBefore = target.metricsUrls.length ? await sumSpans(target.metricsUrls) : undefined;
  const before = statsOf(target.pids);
  const result = await ghz(settings.duration, 'm');
  const after = statsOf(target.pids);
  let spans: SpanCounts | undefined;
  if (spansBefore) {
    // Past one scheduled export (OTEL_BSP_SCHEDULE_DELAY, 1 s), so the run's spans are counted.
    await sleep(2000);
    const spansAfter = await sumSpans(target.metricsUrls);
    spans = {
      exported: spansAfter.exported - spansBefore.exported,
      dropped: spansAfter.dropped - spansBefore.dropped,
    };
  }
  const names = Object.keys(target.pids);
  const cpuSeconds = Object.fromEntries(
    names.map((n) => [n, (after[n]?.cpuSeconds ?? 0) - (before[n]?.cpuSeconds ?? 0)]),
  );
  const totalCpu = Object.values(cpuSeconds).reduce((a, b) => a + b, 0);
  return {
    rpc: scenario.rpc,
    variant: settings.variant,
    target: target.name,
    callsPerSecond: result.ok / result.seconds,
    p50Ms: result.p50,
    p95Ms: result.p95,
    p99Ms: result.p99,
    statuses: result.statuses,
    cpuUsPerCall: result.ok ? (totalCpu / result.ok) * 1e6 : Number.NaN,
    cpuSeconds,
    rssMb: Object.fromEntries(
      names.map((n) => [
        n,
        { before: mb(before[n]?.rssBytes ?? 0), after: mb(after[n]?.rssBytes ?? 0) },
      ]),
    ),
    ...(spans ? { spans } : {}),
    ...(settings.rate ? { rate: settings.rate } : {}),
  };
}
