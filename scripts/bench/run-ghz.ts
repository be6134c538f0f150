import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repo } from '../lib/child-process.js';

const run = promisify(execFile);

export const ghzBinary = join(repo, '.tools/bin/ghz');

export interface GhzOptions {
  /** `127.0.0.1:port`. */
  address: string;
  /** `shop.user.v1.UserService/GetUser`. */
  call: string;
  /** The request as proto JSON; ghz templates (`{{.RequestNumber}}`) allowed. */
  data: unknown;
  /** The FileDescriptorSet file, so neither server is asked for reflection during a run. */
  protoset: string;
  /** `10s`. */
  duration: string;
  concurrency: number;
  /** A fixed rate in calls/s; default: as fast as the server answers. */
  rps?: number;
  /** taskset list for ghz; default: not pinned. */
  cpus?: string;
}

/** What the bench keeps of a ghz run; latencies in milliseconds. */
export interface GhzResult {
  rps: number;
  /** Calls answered OK. */
  ok: number;
  /** Every call by status name, as ghz counts them (`OK`, `Unavailable`, …). */
  statuses: Record<string, number>;
  p50: number;
  p95: number;
  p99: number;
  /** Wall time of the run, in seconds. */
  seconds: number;
}

interface GhzJson {
  rps: number;
  total: number;
  latencyDistribution: { percentage: number; latency: number }[] | null;
  statusCodeDistribution: Record<string, number> | null;
}

/**
 * One ghz run over one connection, its JSON report reduced to what the bench
 * prints. ghz counts the calls still in flight when the time is up as
 * Unavailable: about `concurrency` of them per run is that, not a failure.
 */
export async function runGhz(options: GhzOptions): Promise<GhzResult> {
  const args = [
    '--insecure',
    '--protoset',
    options.protoset,
    '--call',
    options.call,
    '--data',
    JSON.stringify(options.data),
    '--duration',
    options.duration,
    '--concurrency',
    String(options.concurrency),
    '--connections',
    '1',
    ...(options.rps ? ['--rps', String(Math.max(1, Math.round(options.rps)))] : []),
    '--format',
    'json',
    options.address,
  ];
  const [command, argv] = options.cpus
    ? ['taskset', ['-c', options.cpus, ghzBinary, ...args]]
    : [ghzBinary, args];
  const { stdout } = await run(command, argv, { maxBuffer: 256 * 1024 * 1024 });
  const report = JSON.parse(stdout) as GhzJson;
  const ms = (q: number) =>
    (report.latencyDistribution?.find((d) => d.percentage === q)?.latency ?? Number.NaN) / 1e6;
  const statuses = report.statusCodeDistribution ?? {};
  return {
    rps: report.rps,
    ok: statuses.OK ?? 0,
    statuses,
    p50: ms(50),
    p95: ms(95),
    p99: ms(99),
    seconds: report.total / 1e9,
  };
}
