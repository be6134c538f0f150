import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { baseEnv, type Child, repo, spawnChild } from '../lib/child-process.js';
import { freePort } from '../lib/free-port.js';

/** Where scripts/bench/tsconfig.json compiles to: outside dist/, which ships. */
const compiledDir = join(repo, 'node_modules/.cache/grpc-mesh-shop-bench/scripts/bench');
const compiled = join(compiledDir, 'baseline-main.js');
/** The compiled cpu-profiler.ts, for NODE_OPTIONS=--import=… */
export const cpuProfilerPreload = join(compiledDir, 'cpu-profiler.js');

/** Compiles the bench's own processes (the baseline, the profiler preload). */
export function compileBenchProcesses(): void {
  execFileSync(
    process.execPath,
    [
      join(repo, 'node_modules/typescript/bin/tsc'),
      '-p',
      join(repo, 'scripts/bench/tsconfig.json'),
    ],
    { cwd: repo, stdio: 'inherit' },
  );
}

export interface Baseline {
  readonly child: Child;
  /** `127.0.0.1:<port>`. */
  readonly address: string;
}

/**
 * Starts the compiled baseline (compileBenchProcesses) with `fixturesPath`,
 * under `taskset -c cpus` when given. Ready when it says it is serving.
 */
export async function startBaseline(fixturesPath: string, cpus?: string): Promise<Baseline> {
  const port = await freePort();
  const node = [process.execPath, compiled, fixturesPath];
  const [command, ...args] = cpus ? ['taskset', '-c', cpus, ...node] : node;
  const child = spawnChild('baseline', command as string, args, {
    env: { ...baseEnv(), GRPC_PORT: String(port) },
  });
  await child.waitForLog((line) => line.msg === 'serving');
  return { child, address: `127.0.0.1:${port}` };
}
