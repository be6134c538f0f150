// Removes everything the lab's records name: processes (by recorded pid and
// process group), pod network namespaces and veths, the bridge, host
// mountpoints it created, and its state. Safe to run after a killed run and
// when nothing runs.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stateDir } from './lab.js';
import { deleteAllNetworks } from './network.js';
import { restorePathToRepo } from './path-to-repo.js';
import { alive, recordedPids, stopGroup } from './processes.js';
import { removeHostMountpoints } from './sandbox.js';

export async function teardown(log: (msg: string) => void = () => {}) {
  const daemonPid = join(stateDir, 'daemon.pid');
  if (existsSync(daemonPid)) {
    const pid = Number(readFileSync(daemonPid, 'utf8'));
    if (pid > 1 && alive(pid)) {
      log(`stopping the lab (pid ${pid})`);
      try {
        process.kill(pid, 'SIGTERM');
      } catch {}
      const until = Date.now() + 60_000;
      while (alive(pid) && Date.now() < until) await sleep(200);
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
  }
  // What the daemon did not stop (or a killed run left).
  const pods = recordedPids().filter((r) => r.name.startsWith('pod-'));
  const rest = recordedPids().filter((r) => !r.name.startsWith('pod-'));
  // Pods all at once (a killed run can leave many), then the control plane.
  const stop = (r: { name: string; pid: number }) => {
    if (!alive(r.pid)) return;
    log(`stopping ${r.name} (pid ${r.pid})`);
    return stopGroup(r.pid, 3000);
  };
  await Promise.all(pods.map(stop));
  for (const r of rest) await stop(r);
  deleteAllNetworks();
  removeHostMountpoints();
  // Pod network namespaces carry their own iptables tables, which go with
  // them; the lab adds no rule to the host's. Should an ISTIO_* chain ever
  // reach the host's tables (istio-iptables run outside a pod), remove it
  // from both the legacy and the nft tables.
  for (const cmd of ['iptables-legacy', 'iptables-nft', 'ip6tables-legacy', 'ip6tables-nft']) {
    for (const table of ['nat', 'mangle', 'raw', 'filter']) {
      let rules: string[];
      try {
        rules = execFileSync(cmd, ['-t', table, '-S'], { stdio: ['ignore', 'pipe', 'ignore'] })
          .toString()
          .split('\n');
      } catch {
        continue;
      }
      const run = (args: string[]) => {
        try {
          execFileSync(cmd, ['-t', table, ...args], { stdio: 'ignore' });
        } catch {}
      };
      const jumps = rules.filter(
        (r) => r.startsWith('-A ') && /-j ISTIO_/.test(r) && !/^-A ISTIO_/.test(r),
      );
      const chains = rules.filter((r) => /^-N ISTIO_/.test(r)).map((r) => r.split(' ')[1] ?? '');
      if (jumps.length || chains.length)
        log(`removing ISTIO rules from the host's ${cmd} ${table} table`);
      for (const r of jumps) run(['-D', ...r.slice(3).split(' ')]);
      for (const c of chains) run(['-F', c]);
      for (const c of chains) run(['-X', c]);
    }
  }
  restorePathToRepo();
  rmSync(stateDir, { recursive: true, force: true });
}
