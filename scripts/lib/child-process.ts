// The one way scripts and tests run a program of ours or a peer (Jaeger,
// PostgreSQL's tools aside) as a child process: output kept line by line and
// parsed as JSON once, waits on lines, stop with a signal, and one safety net
// that kills whatever is still running when the parent exits.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The checkout these scripts belong to. */
export const repo = fileURLToPath(new URL('../../', import.meta.url));

/** A JSON log line (pino); other output is kept as `{ level: 'raw', msg }`. */
export interface LogLine {
  level: string | number;
  msg: string;
  [key: string]: unknown;
}

export interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  readonly pid: number;
  /** Every line of stdout and stderr so far, as written. */
  readonly lines: readonly string[];
  /** The same lines, parsed once as they arrive. */
  readonly logs: readonly LogLine[];
  readonly running: boolean;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** The first log line, present or future, that matches; fails on timeout or exit. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Sends `signal` (default SIGTERM) unless already exited, and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** The last lines, for failure messages. */
  tail(count?: number): string;
}

export interface SpawnOptions {
  /** The whole environment (nothing is inherited but what is passed). */
  env: Record<string, string>;
  cwd?: string;
  /** In a process group of its own, so a Ctrl-C in the terminal reaches only the parent. */
  detached?: boolean;
  /** Sees each output line as it arrives, e.g. to print it. */
  onLine?: (line: string) => void;
}

const running = new Set<ChildProcess>();
// A test or script that fails before its cleanup must not leave processes behind.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function parse(text: string): LogLine {
  if (text.startsWith('{')) {
    try {
      return JSON.parse(text) as LogLine;
    } catch {
      // not JSON after all
    }
  }
  return { level: 'raw', msg: text };
}

export function spawnChild(
  name: string,
  command: string,
  args: readonly string[],
  options: SpawnOptions,
): Child {
  const child = spawn(command, args, {
    cwd: options.cwd ?? repo,
    env: options.env,
    detached: options.detached,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const lines: string[] = [];
  const logs: LogLine[] = [];
  const waiters = new Set<() => void>();
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      lines.push(line);
      logs.push(parse(line));
      options.onLine?.(line);
      for (const wake of waiters) wake();
    });
  }
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      running.delete(child);
      resolve(code);
      for (const wake of waiters) wake();
    }),
  );
  const isRunning = () => child.exitCode === null && child.signalCode === null;
  const tail = (count = 40) => lines.slice(-count).join('\n');

  return {
    name,
    process: child,
    pid: child.pid ?? 0,
    lines,
    logs,
    get running() {
      return isRunning();
    },
    exited,
    tail,
    waitForLog(match, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        let seen = 0;
        const check = () => {
          for (; seen < logs.length; seen++) {
            const line = logs[seen] as LogLine;
            if (match(line)) return done(() => resolve(line));
          }
          if (!isRunning()) {
            done(() => reject(new Error(`${name} exited (${child.exitCode}):\n${tail()}`)));
          }
        };
        const timer = setTimeout(
          () =>
            done(() => reject(new Error(`${name}: no such line in ${timeoutMs} ms:\n${tail()}`))),
          timeoutMs,
        );
        const done = (settle: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          settle();
        };
        waiters.add(check);
        check();
      });
    },
    async stop(signal = 'SIGTERM') {
      if (isRunning()) child.kill(signal);
      return exited;
    },
  };
}

/** The environment a child gets by default: PATH and HOME, nothing else of ours. */
export function baseEnv(): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };
}
