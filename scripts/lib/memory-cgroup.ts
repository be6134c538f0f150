// A memory cgroup with a limit, to run a process the way a pod runs its
// container: the kubelet puts each container in a cgroup with its memory
// limit, the kernel reclaims and, past the limit, kills inside it, and Node
// sizes its heap from it (libuv's uv_get_constrained_memory: on a 24 GB
// machine V8 plans for gigabytes and collects lazily, under 256 MiB it keeps
// its young generation small). The container runtime and the kubelet cannot
// run here; the cgroup itself can, as root, on cgroup v2 or the v1 memory
// controller.
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = '/sys/fs/cgroup';

export interface MemoryCgroup {
  readonly path: string;
  /** `command args…` as a command line that joins this cgroup before it execs (so from its first instruction). */
  wrap(command: string, args: readonly string[]): { command: string; args: string[] };
  /** Times the kernel killed a process of this cgroup for going over the limit (also once removed). */
  oomKills(): number;
  /** Removes the cgroup; its processes must have exited. */
  remove(): void;
}

function layout(): { dir: string; limitFile: string; eventsFile: string } {
  if (existsSync(join(root, 'cgroup.controllers'))) {
    const controllers = readFileSync(join(root, 'cgroup.controllers'), 'utf8');
    if (!/\bmemory\b/.test(controllers)) throw new Error('cgroup v2 without the memory controller');
    // Children of the root get the memory controller only once it is delegated.
    writeFileSync(join(root, 'cgroup.subtree_control'), '+memory');
    return { dir: root, limitFile: 'memory.max', eventsFile: 'memory.events' };
  }
  if (existsSync(join(root, 'memory', 'memory.limit_in_bytes'))) {
    return {
      dir: join(root, 'memory'),
      limitFile: 'memory.limit_in_bytes',
      eventsFile: 'memory.oom_control',
    };
  }
  throw new Error(`no memory cgroup controller under ${root} (a pod-like memory limit needs one)`);
}

/** A new cgroup named `name` (unique per process) with `limitBytes` of memory. */
export function createMemoryCgroup(name: string, limitBytes: number): MemoryCgroup {
  const { dir, limitFile, eventsFile } = layout();
  const path = join(dir, `${name}-${process.pid}-${Date.now()}`);
  mkdirSync(path);
  try {
    writeFileSync(join(path, limitFile), String(limitBytes));
  } catch (error) {
    rmdirSync(path);
    throw error;
  }
  const procs = join(path, 'cgroup.procs');
  const readOomKills = () =>
    Number(readFileSync(join(path, eventsFile), 'utf8').match(/^oom_kill (\d+)/m)?.[1] ?? 0);
  let killsAtRemoval: number | undefined;
  return {
    path,
    wrap: (command, args) => ({
      command: '/bin/sh',
      // $0 is the procs file; `exec` keeps the pid, so the caller's child is the command itself.
      args: ['-c', 'echo $$ > "$0" && exec "$@"', procs, command, ...args],
    }),
    oomKills: () => killsAtRemoval ?? readOomKills(),
    remove() {
      // Read before the cgroup goes: a kill by the memcg OOM killer shows here, and in
      // a container's kernel log perhaps not at all.
      killsAtRemoval = readOomKills();
      rmdirSync(path);
    },
  };
}
