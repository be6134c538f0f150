// Every process the lab starts is spawned here: detached (a process group of
// its own, so a stop reaches its children too), output to a log file under
// .mesh-lab/logs, and its pid recorded under .mesh-lab/pids so teardown can
// stop it even when the process that started it is gone.
import { type ChildProcess, spawn } from 'node:child_process';
import {
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stateDir } from './lab.js';

export const logsDir = join(stateDir, 'logs');
const pidsDir = join(stateDir, 'pids');

export interface Started {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<number | null>;
  readonly logPath: string;
}

export interface StartOptions {
  env?: Record<string, string>;
  cwd?: string;
  /** Log file path (default .mesh-lab/logs/<name>.log), appended to. */
  logPath?: string;
  /** Owner of the log file: Envoy reopens /dev/stdout as its own uid. */
  logOwner?: { uid: number; gid: number };
  /** Run as this user instead of root. */
  user?: { uid: number; gid: number };
}

export function start(
  name: string,
  command: string,
  args: string[],
  options: StartOptions = {},
): Started {
  mkdirSync(logsDir, { recursive: true });
  mkdirSync(pidsDir, { recursive: true });
  const logPath = options.logPath ?? join(logsDir, `${name}.log`);
  const fd = openSync(logPath, 'a', 0o644);
  if (options.logOwner) chownSync(logPath, options.logOwner.uid, options.logOwner.gid);
  const child = spawn(command, args, {
    env: options.env ?? { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    cwd: options.cwd,
    detached: true,
    stdio: ['ignore', fd, fd],
    ...options.user,
  });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not start ${name} (${command})`);
  const pid = child.pid;
  const record = join(pidsDir, `${name}.pid`);
  writeFileSync(record, String(pid));
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      if (existsSync(record) && readFileSync(record, 'utf8') === String(pid))
        rmSync(record, { force: true });
      resolve(code);
    });
    child.once('error', () => resolve(-1));
  });
  return { name, child, pid, exited, logPath };
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Signals a started process's whole group; SIGKILL after `graceMs` if still there. */
export async function stopGroup(pid: number, graceMs = 5000, signal: NodeJS.Signals = 'SIGTERM') {
  const kill = (s: NodeJS.Signals) => {
    try {
      process.kill(-pid, s);
    } catch {
      try {
        process.kill(pid, s);
      } catch {}
    }
  };
  kill(signal);
  const until = Date.now() + graceMs;
  while (alive(pid) && Date.now() < until) await sleep(100);
  if (alive(pid)) kill('SIGKILL');
}

/** The recorded pids of processes that may still run (from this run or a killed one). */
export function recordedPids(): { name: string; pid: number }[] {
  if (!existsSync(pidsDir)) return [];
  return readdirSync(pidsDir)
    .filter((f) => f.endsWith('.pid'))
    .map((f) => ({ name: f.slice(0, -4), pid: Number(readFileSync(join(pidsDir, f), 'utf8')) }))
    .filter((r) => Number.isInteger(r.pid) && r.pid > 1);
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
  everyMs = 250,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      last = err;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}
