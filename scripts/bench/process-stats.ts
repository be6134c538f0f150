import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** What the kernel says a process has used so far. */
export interface ProcessStats {
  /** User plus system CPU time, in seconds, of every thread (GC and libuv's pool included). */
  cpuSeconds: number;
  /** Resident set size, in bytes. */
  rssBytes: number;
}

let ticksPerSecond: number | undefined;

/**
 * Reads /proc/PID/stat (utime and stime, fields 14 and 15, in clock ticks)
 * and /proc/PID/status (VmRSS). CPU time is the fair figure of how hard a
 * server works when the load generator, not the server, is the limit.
 */
export function readProcessStats(pid: number): ProcessStats {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces and parentheses: count from its closing one.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? Number.NaN);
  return { cpuSeconds: (utime + stime) / ticksPerSecond, rssBytes: rssKb * 1024 };
}
