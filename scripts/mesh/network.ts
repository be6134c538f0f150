// The lab's network, all of it private to this machine: one bridge (mlab0,
// 10.244.0.1/16) and, per pod, a network namespace with a veth on that bridge.
// Nothing is routed off the bridge: forwarding is switched off on mlab0 and
// each pod's resolv.conf names no server, so pods reach only each other and
// the host's lab processes (API server, istiod, PostgreSQL) at 10.244.0.1.
// Every namespace created is recorded under .mesh-lab/net before it exists.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bridge, hostIp, netnsName, podCidrBits, podIp, stateDir, vethName } from './lab.js';

const netDir = join(stateDir, 'net');

const ip = (...args: string[]) =>
  execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
const tryIp = (...args: string[]) => {
  try {
    return ip(...args);
  } catch {
    return undefined;
  }
};

export function createBridge() {
  mkdirSync(netDir, { recursive: true });
  writeFileSync(join(netDir, 'bridge'), bridge);
  if (!tryIp('link', 'show', bridge)) ip('link', 'add', bridge, 'type', 'bridge');
  tryIp('addr', 'add', `${hostIp}/${podCidrBits}`, 'dev', bridge);
  ip('link', 'set', bridge, 'up');
  // Never route pod traffic anywhere else.
  writeFileSync(`/proc/sys/net/ipv4/conf/${bridge}/forwarding`, '0');
}

/** A pod's network namespace with eth0 = podIp(n) on the bridge. */
export function createPodNetwork(n: number): { netns: string; ip: string } {
  mkdirSync(netDir, { recursive: true });
  const netns = netnsName(n);
  const veth = vethName(n);
  const address = podIp(n);
  writeFileSync(join(netDir, `netns-${n}`), netns);
  tryIp('netns', 'del', netns);
  tryIp('link', 'del', veth);
  ip('netns', 'add', netns);
  ip('link', 'add', veth, 'type', 'veth', 'peer', 'name', `${veth}p`);
  ip('link', 'set', `${veth}p`, 'netns', netns);
  ip('-n', netns, 'link', 'set', `${veth}p`, 'name', 'eth0');
  ip('-n', netns, 'addr', 'add', `${address}/${podCidrBits}`, 'dev', 'eth0');
  ip('-n', netns, 'link', 'set', 'eth0', 'up');
  ip('-n', netns, 'link', 'set', 'lo', 'up');
  ip('-n', netns, 'route', 'add', 'default', 'via', hostIp);
  ip('link', 'set', veth, 'master', bridge, 'up');
  return { netns, ip: address };
}

export function deletePodNetwork(n: number) {
  tryIp('netns', 'del', netnsName(n));
  tryIp('link', 'del', vethName(n));
  rmSync(join(netDir, `netns-${n}`), { force: true });
}

/** Removes every namespace and link the records name, and the bridge. */
export function deleteAllNetworks() {
  if (existsSync(netDir)) {
    for (const f of readdirSync(netDir)) {
      const m = /^netns-(\d+)$/.exec(f);
      if (m) deletePodNetwork(Number(m[1]));
    }
  }
  if (existsSync(join(netDir, 'bridge'))) tryIp('link', 'del', bridge);
  rmSync(netDir, { recursive: true, force: true });
}
