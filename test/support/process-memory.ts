// Resident memory of a child process, as the kernel (and so a pod's memory
// limit) counts it, for the tests that bound a service's memory under abuse.
import { readFileSync } from 'node:fs';

/**
 * What the pods allow (POD_MEMORY_LIMIT_BYTES in scripts/lib/pod-memory-limit.ts, 256 MiB) less headroom for the
 * runtime's own swings: the bound ServerLimits' defaults are chosen to keep a
 * service under (services/shared/grpc/server-limits.ts). Measure it with the
 * service under the pod's limit (spawnService's memoryLimitBytes): Node sizes
 * its heap from the limit it runs under, and on this 24 GB machine without one
 * Node 22 and 24 let the young generation grow to 200 MB and more.
 */
export const MEMORY_BOUND_MB = 200;

/** VmRSS of `pid` from /proc/PID/status, in MB (NaN once the process is gone). */
export function rssMb(pid: number): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
    return Number(line?.[1] ?? Number.NaN) / 1024;
  } catch {
    return Number.NaN;
  }
}

export interface RssWatch {
  /** The highest RSS seen so far, in MB. */
  peak(): number;
  stop(): void;
}

/** Samples the RSS of `pid` every `intervalMs` (and at once), keeping the peak. */
export function watchRss(pid: number, intervalMs = 100): RssWatch {
  let peak = rssMb(pid);
  const sample = () => {
    const now = rssMb(pid);
    if (now > peak || Number.isNaN(peak)) peak = now;
  };
  const timer = setInterval(sample, intervalMs);
  return {
    peak() {
      sample();
      return peak;
    },
    stop: () => clearInterval(timer),
  };
}
