import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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

/**
 * Pins every thread of a running process, and of the children it has (a
 * PostgreSQL server's background processes), to `cpus` (a taskset list).
 * Children forked later inherit it.
 */
export function pinProcess(pid: number, cpus: string): void {
  execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
  let children: string[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean);
  } catch {
    // Gone, or a kernel without the children file: the process itself is pinned.
  }
  for (const child of children) pinProcess(Number(child), cpus);
}
