// EMULATED pod sandbox (what a container runtime's pause container and volume
// plugins do): a network namespace with the pod's IP, and a mount namespace,
// held by one sleeping process, in which each volume a container mounts is
// bind-mounted at its mountPath. So absolute paths like
// /var/run/secrets/tokens/istio-token or /etc/istio/proxy differ per pod, as
// in a cluster. The containers' processes join both namespaces (nsenter).
// Differences from a runtime: the pod's containers share one mount table (the
// union of their volumeMounts) and see the host's filesystem elsewhere; a
// mountPath missing on the host is created as an empty directory there,
// recorded, and removed by teardown.
import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmdirSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { Kube, KubeObject } from './kube.js';
import { hostIp, nodeName, repo, stateDir } from './lab.js';
import { createPodNetwork, deletePodNetwork } from './network.js';
import { alive, type Started, start, stopGroup } from './processes.js';

const hostDirsRecord = join(stateDir, 'host-dirs');

export interface Sandbox {
  n: number;
  ip: string;
  netns: string;
  dir: string;
  holder: Started;
  hostsPath: string;
}

/** Creates `path` (an empty directory or file) on the host if missing, recording what it created. */
function ensureMountpoint(path: string, file: boolean) {
  if (existsSync(path)) return;
  let top = path;
  while (!existsSync(dirname(top))) top = dirname(top);
  appendFileSync(hostDirsRecord, `${top}\n`);
  mkdirSync(file ? dirname(path) : path, { recursive: true });
  if (file) writeFileSync(path, '');
}

/** Removes the recorded mountpoints, only where they are still empty (nothing of anyone else's). */
export function removeHostMountpoints() {
  if (!existsSync(hostDirsRecord)) return;
  const remove = (p: string) => {
    try {
      const st = execFileSync('stat', ['-c', '%F', p], { stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim();
      if (st === 'directory') {
        for (const e of execFileSync('ls', ['-A', p]).toString().split('\n').filter(Boolean))
          remove(join(p, e));
        rmdirSync(p);
      } else if (st.includes('empty')) execFileSync('rm', ['-f', p]);
    } catch {}
  };
  for (const p of [
    ...new Set(
      readFileSync(hostDirsRecord, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('/')),
    ),
  ]) {
    if (p.split('/').length > 2) remove(p);
  }
  writeFileSync(hostDirsRecord, '');
}

function bootstrapTemplate(): string {
  const dir = execFileSync('go', ['list', '-m', '-f', '{{.Dir}}', 'istio.io/istio'], {
    cwd: join(repo, 'tools/istiod'),
  })
    .toString()
    .trim();
  return join(dir, 'tools/packaging/common/envoy_bootstrap.json');
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function fieldValue(pod: KubeObject, fieldPath: string, ip: string): string {
  const m = pod.metadata;
  const map = (o: Record<string, string> | undefined) =>
    Object.entries(o ?? {})
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join('\n');
  const keyed = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (keyed?.[2]) return (keyed[1] === 'labels' ? m.labels : m.annotations)?.[keyed[2]] ?? '';
  switch (fieldPath) {
    case 'metadata.name':
      return m.name;
    case 'metadata.namespace':
      return m.namespace ?? '';
    case 'metadata.uid':
      return m.uid ?? '';
    case 'metadata.labels':
      return map(m.labels);
    case 'metadata.annotations':
      return map(m.annotations);
    case 'spec.nodeName':
      return nodeName;
    case 'spec.serviceAccountName':
      return pod.spec.serviceAccountName ?? 'default';
    case 'status.podIP':
    case 'status.podIPs':
      return ip;
    case 'status.hostIP':
    case 'status.hostIPs':
      return hostIp;
    default:
      return '';
  }
}

function resourceValue(
  pod: KubeObject,
  containerName: string | undefined,
  resource: string,
  divisor?: string,
): string {
  const containers = [...(pod.spec.initContainers ?? []), ...pod.spec.containers];
  const c =
    containers.find((x: { name: string }) => x.name === containerName) ?? pod.spec.containers[0];
  const [kind, what] = resource.split('.');
  const raw = kind && what ? c?.resources?.[kind]?.[what] : undefined;
  if (what === 'cpu') {
    const cores =
      raw === undefined ? 2 : raw.endsWith('m') ? Number(raw.slice(0, -1)) / 1000 : Number(raw);
    const d = divisor
      ? divisor.endsWith('m')
        ? Number(divisor.slice(0, -1)) / 1000
        : Number(divisor)
      : 1;
    return String(Math.ceil(cores / d));
  }
  const bytes = (q: string) => {
    const m = /^([0-9.]+)([KMGT]i?|[kmgt])?$/.exec(q);
    if (!m) return Number(q);
    const units: Record<string, number> = {
      Ki: 2 ** 10,
      Mi: 2 ** 20,
      Gi: 2 ** 30,
      Ti: 2 ** 40,
      k: 1e3,
      K: 1e3,
      M: 1e6,
      G: 1e9,
      T: 1e12,
    };
    return Number(m[1]) * (m[2] ? (units[m[2]] ?? 1) : 1);
  };
  // Memory in bytes (16 GiB, the node's capacity, when unlimited), divided by the divisor.
  const value = raw === undefined ? 16 * 2 ** 30 : bytes(raw);
  return String(Math.ceil(value / (divisor ? bytes(divisor) : 1)));
}

export { fieldValue, resourceValue };

async function getOptional(kube: Kube, path: string): Promise<KubeObject | undefined> {
  try {
    return await kube.get(path);
  } catch (err) {
    if ((err as { status?: number }).status === 404) return undefined;
    throw err;
  }
}

/** Writes the files of one volume into `dir`; throws (to be retried) while a required source is missing. */
async function materialise(
  kube: Kube,
  pod: KubeObject,
  volume: KubeObject['spec'],
  dir: string,
  ip: string,
) {
  const ns = pod.metadata.namespace;
  mkdirSync(dir, { recursive: true });
  const writeItems = (
    data: Record<string, string>,
    items: { key: string; path: string }[] | undefined,
    base64: boolean,
  ) => {
    const entries = items ? items.map((i) => [i.path, data[i.key]] as const) : Object.entries(data);
    for (const [path, value] of entries) {
      if (value === undefined) continue;
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), base64 ? Buffer.from(value, 'base64') : value, {
        mode: 0o644,
      });
    }
  };
  const configMap = async (src: {
    name: string;
    items?: { key: string; path: string }[];
    optional?: boolean;
  }) => {
    const cm = await getOptional(kube, `/api/v1/namespaces/${ns}/configmaps/${src.name}`);
    if (!cm) {
      if (src.optional) return;
      throw new Error(`configmap ${ns}/${src.name} not found`);
    }
    writeItems(cm.data ?? {}, src.items, false);
  };
  const secret = async (src: {
    secretName?: string;
    name?: string;
    items?: { key: string; path: string }[];
    optional?: boolean;
  }) => {
    const name = src.secretName ?? src.name;
    const s = await getOptional(kube, `/api/v1/namespaces/${ns}/secrets/${name}`);
    if (!s) {
      if (src.optional) return;
      throw new Error(`secret ${ns}/${name} not found`);
    }
    writeItems(s.data ?? {}, src.items, true);
  };
  const downward = (src: {
    items: {
      path: string;
      fieldRef?: { fieldPath: string };
      resourceFieldRef?: { containerName?: string; resource: string; divisor?: string };
    }[];
  }) => {
    for (const item of src.items ?? []) {
      const value = item.fieldRef
        ? fieldValue(pod, item.fieldRef.fieldPath, ip)
        : item.resourceFieldRef
          ? resourceValue(
              pod,
              item.resourceFieldRef.containerName,
              item.resourceFieldRef.resource,
              item.resourceFieldRef.divisor,
            )
          : '';
      mkdirSync(dirname(join(dir, item.path)), { recursive: true });
      writeFileSync(join(dir, item.path), value, { mode: 0o644 });
    }
  };
  if (volume.emptyDir || volume.persistentVolumeClaim) {
    // persistentVolumeClaim: the lab has no storage; the lab overlay uses none.
    chmodSync(dir, 0o777);
  } else if (volume.configMap) await configMap(volume.configMap);
  else if (volume.secret) await secret(volume.secret);
  else if (volume.downwardAPI) downward(volume.downwardAPI);
  else if (volume.projected) {
    for (const source of volume.projected.sources ?? []) {
      if (source.serviceAccountToken) {
        // The kubelet's projected token: TokenRequest for the pod's service account, bound to the pod.
        const sa = pod.spec.serviceAccountName ?? 'default';
        const tr = await kube.call<KubeObject>(
          'POST',
          `/api/v1/namespaces/${ns}/serviceaccounts/${sa}/token`,
          {
            apiVersion: 'authentication.k8s.io/v1',
            kind: 'TokenRequest',
            spec: {
              audiences: source.serviceAccountToken.audience
                ? [source.serviceAccountToken.audience]
                : undefined,
              expirationSeconds: source.serviceAccountToken.expirationSeconds ?? 3607,
              boundObjectRef: {
                apiVersion: 'v1',
                kind: 'Pod',
                name: pod.metadata.name,
                uid: pod.metadata.uid,
              },
            },
          },
        );
        writeFileSync(join(dir, source.serviceAccountToken.path), tr.status.token, { mode: 0o644 });
      }
      if (source.configMap) await configMap(source.configMap);
      if (source.secret) await secret(source.secret);
      if (source.downwardAPI) downward(source.downwardAPI);
    }
  } else if (volume.hostPath) {
    // Not materialised: the mount below binds the host path itself.
  }
  execFileSync('chmod', ['-R', 'a+rX', dir]);
}

export function hostsFile(
  services: KubeObject[],
  podName: string,
  ip: string,
  podNamespace: string,
): string {
  const lines = ['127.0.0.1 localhost', `${ip} ${podName}`];
  for (const s of services) {
    const { name, namespace } = s.metadata;
    // istiod runs on the host, not as a pod, and no kube-proxy makes its
    // ClusterIP work for the agent's own (uncaptured) connections: its name
    // points at the host's bridge address, where it listens.
    const cip = namespace === 'istio-system' && name === 'istiod' ? hostIp : s.spec?.clusterIP;
    if (!cip || cip === 'None') continue;
    const names = [
      `${name}.${namespace}.svc.cluster.local`,
      `${name}.${namespace}.svc`,
      `${name}.${namespace}`,
    ];
    if (namespace === podNamespace) names.push(name);
    lines.push(`${cip} ${names.join(' ')}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Creates the pod's namespaces and volumes and starts its holder process. Retries while volumes' sources are missing. */
export async function createSandbox(
  kube: Kube,
  pod: KubeObject,
  n: number,
  services: KubeObject[],
): Promise<Sandbox> {
  const dir = join(stateDir, 'pods', `${pod.metadata.namespace}_${pod.metadata.name}_${n}`);
  mkdirSync(dir, { recursive: true });
  const { netns, ip } = createPodNetwork(n);
  try {
    const volumes = new Map<string, string>();
    for (const v of pod.spec.volumes ?? []) {
      const vdir = v.hostPath ? v.hostPath.path : join(dir, 'volumes', v.name);
      if (!v.hostPath) await materialise(kube, pod, v, vdir, ip);
      volumes.set(v.name, vdir);
    }
    const hostsPath = join(dir, 'hosts');
    writeFileSync(
      hostsPath,
      hostsFile(services, pod.metadata.name, ip, pod.metadata.namespace ?? 'default'),
    );
    // No name server: pods resolve only the Services in their hosts file,
    // and never query anything off this machine.
    writeFileSync(
      join(dir, 'resolv.conf'),
      'nameserver 127.0.0.255\noptions timeout:1 attempts:1\n',
    );
    const mounts: [string, string][] = [
      [hostsPath, '/etc/hosts'],
      [join(dir, 'resolv.conf'), '/etc/resolv.conf'],
    ];
    // Istio's proxy image holds Envoy's bootstrap template; the lab takes it
    // from the pinned istio module.
    if (
      [...(pod.spec.initContainers ?? []), ...pod.spec.containers].some((c: { image: string }) =>
        c.image.includes('proxyv2'),
      )
    ) {
      mounts.push([bootstrapTemplate(), '/var/lib/istio/envoy/envoy_bootstrap_tmpl.json']);
      // …and Envoy where pilot-agent looks for it (its binaryPath).
      mounts.push([join(repo, '.tools/bin/envoy'), '/usr/local/bin/envoy']);
    }
    const seen = new Set<string>();
    for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
      for (const m of c.volumeMounts ?? []) {
        if (seen.has(m.mountPath)) continue;
        const src = volumes.get(m.name);
        if (!src) continue;
        seen.add(m.mountPath);
        mounts.push([m.subPath ? join(src, m.subPath) : src, m.mountPath]);
      }
    }
    // Outer mounts first: a mountPath inside another volume (…/istio/crl in
    // …/istio) is created inside that volume, not on the host.
    mounts.sort(([, a], [, b]) => a.split('/').length - b.split('/').length);
    const steps: string[] = [];
    for (const [src, target] of mounts) {
      const isDir = execFileSync('stat', ['-c', '%F', src]).toString().includes('directory');
      const nested = mounts.some(([, t]) => t !== target && target.startsWith(`${t}/`));
      if (!nested) ensureMountpoint(target, !isDir);
      else
        steps.push(
          isDir ? `mkdir -p ${q(target)}` : `mkdir -p ${q(dirname(target))} && touch ${q(target)}`,
        );
      if (isDir && repo.replace(/\/$/, '').startsWith(`${target}/`)) {
        // A volume over an ancestor of this checkout (an emptyDir at /tmp
        // while the checkout is in /tmp) would hide dist/ and the lab's own
        // files from the pod: carry the checkout into the volume first (this
        // mount namespace only), then bind the volume with its submount.
        const inside = join(src, relative(target, repo));
        steps.push(`mkdir -p ${q(inside)} && mount --bind ${q(repo)} ${q(inside)}`);
        steps.push(`mount --rbind ${q(src)} ${q(target)}`);
        continue;
      }
      steps.push(`mount --bind ${q(src)} ${q(target)}`);
    }
    const script = [...steps, 'echo sandbox ready', 'exec sleep infinity'].join(' && ');
    const logPath = join(dir, 'sandbox.log');
    const holder = start(
      `pod-${n}-sandbox`,
      'ip',
      [
        'netns',
        'exec',
        netns,
        'unshare',
        '--mount',
        '--propagation',
        'private',
        '--',
        'sh',
        '-c',
        script,
      ],
      { logPath },
    );
    // The containers may join only once every volume is mounted.
    for (;;) {
      if (existsSync(logPath) && readFileSync(logPath, 'utf8').includes('sandbox ready')) break;
      if (!alive(holder.pid))
        throw new Error(`sandbox mounts failed: ${readFileSync(logPath, 'utf8').slice(-400)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return { n, ip, netns, dir, holder, hostsPath };
  } catch (err) {
    deletePodNetwork(n);
    throw err;
  }
}

export async function deleteSandbox(s: Sandbox) {
  await stopGroup(s.holder.pid, 1000, 'SIGKILL');
  deletePodNetwork(s.n);
}
