import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

/**
 * Which cores the servers and the load generator run on: on separate ones
 * when there are two or more, so ghz never competes with the server it
 * measures. Every server of a run (the services and the baseline alike) gets
 * the same core, so figures compare side by side; Jaeger shares the load
 * generator's core.
 */
export interface CpuPlan {
  /** taskset list for the servers, e.g. `0`. */
  server: string;
  /** taskset list for ghz (and Jaeger), e.g. `1`. */
  load: string;
}

/** Undefined on one core or without taskset: nothing is pinned. */
export function cpuPlan(): CpuPlan | undefined {
  const cores = availableParallelism();
  if (cores < 2) return undefined;
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  return { server: '0', load: cores > 2 ? `1-${cores - 1}` : '1' };
}

/** Pins every thread of a running process to `cpus` (a taskset list). */
export function pinProcess(pid: number, cpus: string): void {
  execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
}
