// EMULATED kubelet: the lab's node agent. There is no kubelet and no container
// runtime in the lab; this agent does their part of the contract against the
// real API server:
// - registers the Node `lab-node` and keeps its Ready condition and Lease fresh;
// - binds unscheduled pods to it (a trivial scheduler: there is one node);
// - runs each pod bound to it: a sandbox (sandbox.ts), init containers in
//   order (native sidecars, restartPolicy Always, keep running once their
//   startup probe passes), then the containers, each a local program for its
//   image (images.ts) with the pod spec's command, args and env (downward API
//   included), as the container's user; postStart hooks;
// - runs startup, readiness and liveness probes, restarts containers that exit
//   or fail liveness, and reports the pod's IP, phase, conditions and
//   container statuses (so the endpoints controllers see ready pods);
// - stops a deleted pod as the kubelet does: preStop hooks, SIGTERM to each
//   container's main process, SIGKILL at the end of the grace period, sidecars
//   last, then removes the pod object.
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { imageConfig } from './images.js';
import { type Kube, KubeError, type KubeObject } from './kube.js';
import { bin, hostIp, nodeName, stateDir } from './lab.js';
import { execIn, type Handler, runHandler } from './probes.js';
import { alive, start } from './processes.js';
import {
  createSandbox,
  deleteSandbox,
  fieldValue,
  hostsFile,
  resourceValue,
  type Sandbox,
} from './sandbox.js';

// biome-ignore lint/suspicious/noExplicitAny: pod spec fragments are open-ended JSON.
type Spec = any;
const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

interface ContainerState {
  spec: Spec;
  sidecar: boolean;
  init: boolean;
  proc?: ChildProcess;
  pid?: number;
  restartCount: number;
  started: boolean;
  ready: boolean;
  startedAt?: string;
  exit?: { code: number | null; at: string };
  env: Record<string, string>;
  uid: number;
  gid: number;
  cwd: string;
}

function nextIndex(): number {
  const f = join(stateDir, 'next-pod');
  const n = existsSync(f) ? Number(readFileSync(f, 'utf8')) : 1;
  writeFileSync(f, String(n + 1));
  return n;
}

const expand = (s: string, env: Record<string, string>) =>
  s.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, v) => env[v] ?? m);

class PodRunner {
  readonly uid: string;
  sandbox?: Sandbox;
  containers: ContainerState[] = [];
  phase = 'Pending';
  stopping = false;
  finished = false;
  private dirty = true;
  private hosts = '';

  constructor(
    private readonly kube: Kube,
    public pod: KubeObject,
    private readonly log: (msg: string) => void,
  ) {
    this.uid = pod.metadata.uid ?? '';
  }

  get key() {
    return `${this.pod.metadata.namespace}/${this.pod.metadata.name}`;
  }

  async run(services: KubeObject[]) {
    for (;;) {
      if (this.stopping) return;
      try {
        const sandbox = await createSandbox(this.kube, this.pod, nextIndex(), services);
        // stop() may have run while the sandbox was being made: it found no
        // sandbox to delete, so this one is ours to remove.
        if (this.stopping) {
          await deleteSandbox(sandbox);
          return;
        }
        this.sandbox = sandbox;
        break;
      } catch (err) {
        this.log(`${this.key}: sandbox not ready: ${(err as Error).message}`);
        await sleep(1000);
      }
    }
    const sb = this.sandbox;
    this.hosts = readFileSync(sb.hostsPath, 'utf8');
    const spec = this.pod.spec;
    for (const c of spec.initContainers ?? []) this.containers.push(await this.prepare(c, true));
    for (const c of spec.containers) this.containers.push(await this.prepare(c, false));
    this.dirty = true;
    for (const c of this.containers.filter((x) => x.init)) {
      if (this.stopping) return;
      if (c.sidecar) {
        this.launch(c);
        await this.until(() => c.started);
      } else {
        for (;;) {
          const code = await this.runToCompletion(c);
          if (code === 0 || this.stopping) break;
          c.restartCount++;
          this.dirty = true;
          await sleep(Math.min(10_000, 1000 * c.restartCount));
        }
      }
    }
    for (const c of this.containers.filter((x) => !x.init)) {
      if (this.stopping) return;
      this.launch(c);
      const hook = c.spec.lifecycle?.postStart as Handler | undefined;
      if (hook) await runHandler(hook, this.target(c), 120_000);
    }
    this.phase = 'Running';
    this.dirty = true;
  }

  private async until(cond: () => boolean) {
    while (!cond() && !this.stopping) await sleep(100);
  }

  private async prepare(c: Spec, init: boolean): Promise<ContainerState> {
    const psc = this.pod.spec.securityContext ?? {};
    const uid = c.securityContext?.runAsUser ?? psc.runAsUser ?? 0;
    const gid = c.securityContext?.runAsGroup ?? psc.runAsGroup ?? uid;
    const image = imageConfig(c.image);
    const env: Record<string, string> = {
      PATH: `${bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
      HOSTNAME: this.pod.metadata.name,
      HOME: '/tmp',
      ...image.env,
    };
    const ns = this.pod.metadata.namespace;
    for (const from of c.envFrom ?? []) {
      const ref = from.configMapRef ?? from.secretRef;
      const kind = from.configMapRef ? 'configmaps' : 'secrets';
      try {
        const o = await this.kube.get(`/api/v1/namespaces/${ns}/${kind}/${ref.name}`);
        for (const [k, v] of Object.entries(o.data ?? {}))
          env[`${from.prefix ?? ''}${k}`] =
            kind === 'secrets' ? Buffer.from(v as string, 'base64').toString() : (v as string);
      } catch (err) {
        if (!ref.optional) throw err;
      }
    }
    for (const e of c.env ?? []) {
      if (e.value !== undefined) env[e.name] = expand(e.value, env);
      else if (e.valueFrom?.fieldRef)
        env[e.name] = fieldValue(this.pod, e.valueFrom.fieldRef.fieldPath, this.sandbox?.ip ?? '');
      else if (e.valueFrom?.resourceFieldRef) {
        const r = e.valueFrom.resourceFieldRef;
        env[e.name] = resourceValue(this.pod, r.containerName ?? c.name, r.resource, r.divisor);
      } else if (e.valueFrom?.configMapKeyRef || e.valueFrom?.secretKeyRef) {
        const ref = e.valueFrom.configMapKeyRef ?? e.valueFrom.secretKeyRef;
        const kind = e.valueFrom.configMapKeyRef ? 'configmaps' : 'secrets';
        try {
          const o = await this.kube.get(`/api/v1/namespaces/${ns}/${kind}/${ref.name}`);
          const v = o.data?.[ref.key];
          if (v !== undefined)
            env[e.name] = kind === 'secrets' ? Buffer.from(v, 'base64').toString() : v;
        } catch (err) {
          if (!ref.optional) throw err;
        }
      } else env[e.name] = '';
    }
    return {
      spec: c,
      init,
      sidecar: init && c.restartPolicy === 'Always',
      restartCount: 0,
      started: false,
      ready: false,
      env,
      uid,
      gid,
      cwd: c.workingDir ?? image.workingDir,
    };
  }

  private argv(c: ContainerState): string[] {
    const image = imageConfig(c.spec.image);
    const command: string[] = c.spec.command ?? image.entrypoint;
    const args: string[] = c.spec.args ?? (c.spec.command ? [] : image.cmd);
    return [...command, ...args].map((a) => expand(a, c.env));
  }

  /** nsenter into the pod's namespaces, then drop to the container's user. */
  private enter(c: ContainerState, argv: string[]): string[] {
    const sb = this.sandbox as Sandbox;
    const user =
      c.uid === 0
        ? []
        : ['setpriv', `--reuid=${c.uid}`, `--regid=${c.gid}`, '--clear-groups', '--'];
    // The working directory is set after entering (env --chdir): nsenter's
    // --wd would resolve it in the host's mount namespace, not the pod's.
    return [
      'nsenter',
      '-t',
      String(sb.holder.pid),
      '-m',
      '-n',
      '--',
      'env',
      `--chdir=${c.cwd}`,
      ...user,
      ...argv,
    ];
  }

  private target(c: ContainerState) {
    const sb = this.sandbox as Sandbox;
    const ports = new Map<string, number>();
    for (const p of c.spec.ports ?? []) if (p.name) ports.set(p.name, p.containerPort);
    return {
      ip: sb.ip,
      port: (p: number | string) => (typeof p === 'number' ? p : (ports.get(p) ?? Number(p))),
      exec: (command: string[], timeoutMs: number) => {
        return execIn(this.enter(c, command), c.env, timeoutMs);
      },
    };
  }

  private spawnContainer(c: ContainerState): { proc: ChildProcess; pid: number } {
    const sb = this.sandbox as Sandbox;
    const [cmd = 'false', ...args] = this.enter(c, this.argv(c));
    const s = start(`pod-${sb.n}-${c.spec.name}`, cmd, args, {
      env: c.env,
      logPath: join(sb.dir, `${c.spec.name}.log`),
      logOwner: { uid: c.uid, gid: c.gid },
    });
    c.startedAt = now();
    this.dirty = true;
    this.log(
      `${this.key}: started ${c.spec.name} (pid ${s.pid}): ${this.argv(c).join(' ').slice(0, 160)}`,
    );
    return { proc: s.child, pid: s.pid };
  }

  private async runToCompletion(c: ContainerState): Promise<number | null> {
    const { proc, pid } = this.spawnContainer(c);
    c.proc = proc;
    c.pid = pid;
    const code = await new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    c.exit = { code, at: now() };
    c.proc = undefined;
    this.dirty = true;
    return code;
  }

  /** Starts a long-running container, its probes, and its restarts. */
  private launch(c: ContainerState) {
    const generation = { n: 0 };
    const once = () => {
      const { proc, pid } = this.spawnContainer(c);
      c.proc = proc;
      c.pid = pid;
      c.started = false;
      c.ready = false;
      const gen = ++generation.n;
      proc.once('exit', async (code) => {
        c.exit = { code, at: now() };
        c.proc = undefined;
        c.started = false;
        c.ready = false;
        this.dirty = true;
        if (this.stopping) return;
        this.log(`${this.key}: ${c.spec.name} exited (${code}); restarting`);
        c.restartCount++;
        await sleep(Math.min(10_000, 500 * 2 ** Math.min(c.restartCount, 5)));
        if (!this.stopping) once();
      });
      void this.probe(c, () => gen === generation.n && !!c.proc);
    };
    once();
  }

  private async probe(c: ContainerState, current: () => boolean) {
    const t = this.target(c);
    const loop = async (
      p: Spec,
      onResult: (ok: boolean, failures: number, successes: number) => boolean | undefined,
    ) => {
      await sleep((p.initialDelaySeconds ?? 0) * 1000);
      let failures = 0;
      let successes = 0;
      while (current() && !this.stopping) {
        const ok = await runHandler(p, t, (p.timeoutSeconds ?? 1) * 1000);
        if (ok) {
          successes++;
          failures = 0;
        } else {
          failures++;
          successes = 0;
        }
        if (onResult(ok, failures, successes)) return;
        await sleep((p.periodSeconds ?? 10) * 1000);
      }
    };
    const s = c.spec;
    if (s.startupProbe) {
      await loop(s.startupProbe, (ok, failures) => {
        if (ok) return true;
        if (failures >= (s.startupProbe.failureThreshold ?? 3)) {
          this.log(`${this.key}: ${s.name} failed its startup probe; killing it`);
          if (c.pid) process.kill(-c.pid, 'SIGKILL');
          return true;
        }
        return undefined;
      });
      if (!current()) return;
    }
    c.started = true;
    this.dirty = true;
    if (!s.readinessProbe) c.ready = true;
    const tasks: Promise<void>[] = [];
    if (s.readinessProbe) {
      tasks.push(
        loop(s.readinessProbe, (ok, failures, successes) => {
          const before = c.ready;
          if (ok && successes >= (s.readinessProbe.successThreshold ?? 1)) c.ready = true;
          if (!ok && failures >= (s.readinessProbe.failureThreshold ?? 3)) c.ready = false;
          if (before !== c.ready) this.dirty = true;
          return undefined;
        }),
      );
    }
    if (s.livenessProbe) {
      tasks.push(
        loop(s.livenessProbe, (ok, failures) => {
          if (!ok && failures >= (s.livenessProbe.failureThreshold ?? 3)) {
            this.log(`${this.key}: ${s.name} failed its liveness probe; restarting it`);
            if (c.pid) process.kill(c.pid, 'SIGTERM');
            return true;
          }
          return undefined;
        }),
      );
    }
    await Promise.all(tasks);
  }

  /** The kubelet's shutdown: preStop, SIGTERM, grace period, SIGKILL; sidecars after the containers. */
  async stop() {
    if (this.stopping) return;
    this.stopping = true;
    for (const c of this.containers) c.ready = false;
    this.dirty = true;
    await this.flush().catch(() => {});
    const grace =
      this.pod.metadata.deletionGracePeriodSeconds ??
      this.pod.spec.terminationGracePeriodSeconds ??
      30;
    const deadline = Date.now() + grace * 1000;
    const stopOne = async (c: ContainerState) => {
      const pre = c.spec.lifecycle?.preStop as Handler | undefined;
      if (pre && c.proc)
        await Promise.race([
          runHandler(pre, this.target(c), Math.max(0, deadline - Date.now())),
          sleep(Math.max(0, deadline - Date.now())),
        ]);
      const pid = c.pid;
      if (!pid || !c.proc) return;
      try {
        process.kill(pid, 'SIGTERM');
      } catch {}
      while (alive(pid) && Date.now() < deadline) await sleep(100);
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {}
    };
    await Promise.all(this.containers.filter((c) => !c.init).map(stopOne));
    await Promise.all(this.containers.filter((c) => c.sidecar).map(stopOne));
    for (const c of this.containers) {
      if (c.pid) {
        try {
          process.kill(-c.pid, 'SIGKILL');
        } catch {}
      }
    }
    if (this.sandbox) await deleteSandbox(this.sandbox);
    this.finished = true;
  }

  updateHosts(services: KubeObject[]) {
    if (!this.sandbox) return;
    const text = hostsFile(
      services,
      this.pod.metadata.name,
      this.sandbox.ip,
      this.pod.metadata.namespace ?? 'default',
    );
    if (text !== this.hosts) {
      // In place (same inode): the file is bind-mounted over the pod's /etc/hosts.
      writeFileSync(this.sandbox.hostsPath, text);
      this.hosts = text;
    }
  }

  async flush() {
    if (!this.dirty || this.finished) return;
    this.dirty = false;
    const status = (c: ContainerState) => ({
      name: c.spec.name,
      image: c.spec.image,
      imageID: '',
      containerID: c.pid ? `lab://${c.pid}` : undefined,
      ready: c.ready,
      started: c.started,
      restartCount: c.restartCount,
      state: c.proc
        ? { running: { startedAt: c.startedAt } }
        : c.exit
          ? {
              terminated: {
                exitCode: c.exit.code ?? 137,
                reason: c.exit.code === 0 ? 'Completed' : 'Error',
                finishedAt: c.exit.at,
              },
            }
          : { waiting: { reason: 'PodInitializing' } },
    });
    const main = this.containers.filter((c) => !c.init);
    const ready =
      main.length > 0 &&
      main.every((c) => c.ready) &&
      this.containers.filter((c) => c.sidecar).every((c) => c.ready || c.started);
    const initialized =
      this.containers.filter((c) => c.init && !c.sidecar).every((c) => c.exit?.code === 0) &&
      main.some((c) => c.proc);
    const cond = (type: string, ok: boolean) => ({
      type,
      status: ok ? 'True' : 'False',
      lastTransitionTime: now(),
    });
    const body = {
      status: {
        phase: this.phase,
        hostIP: hostIp,
        hostIPs: [{ ip: hostIp }],
        podIP: this.sandbox?.ip,
        podIPs: this.sandbox ? [{ ip: this.sandbox.ip }] : undefined,
        startTime: this.pod.status?.startTime ?? now(),
        conditions: [
          cond('PodScheduled', true),
          cond('Initialized', initialized),
          cond('ContainersReady', ready),
          cond('Ready', ready && !this.stopping),
        ],
        initContainerStatuses: this.containers.filter((c) => c.init).map(status),
        containerStatuses: main.map(status),
      },
    };
    const { namespace, name } = this.pod.metadata;
    try {
      await this.kube.call(
        'PATCH',
        `/api/v1/namespaces/${namespace}/pods/${name}/status`,
        body,
        'application/merge-patch+json',
      );
    } catch (err) {
      if (!(err instanceof KubeError && err.status === 404)) this.dirty = true;
    }
  }
}

/**
 * The kubelet's last word on a pod whose containers are gone: delete it for
 * good (grace 0, only this very pod). A pod already gone is fine.
 */
async function forceDelete(kube: Kube, p: KubeObject, log: (msg: string) => void) {
  const { namespace, name, uid } = p.metadata;
  await kube
    .call('DELETE', `/api/v1/namespaces/${namespace}/pods/${name}`, {
      apiVersion: 'v1',
      kind: 'DeleteOptions',
      gracePeriodSeconds: 0,
      preconditions: { uid },
    })
    .catch((err: unknown) => {
      if (!(err instanceof KubeError && (err.status === 404 || err.status === 409))) {
        log(`${namespace}/${name}: delete failed: ${(err as Error).message}`);
      }
    });
}

export async function runNodeAgent(kube: Kube, log: (msg: string) => void, signal: AbortSignal) {
  mkdirSync(join(stateDir, 'pods'), { recursive: true });
  const runners = new Map<string, PodRunner>();
  const heartbeat = async () => {
    const node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: nodeName,
        labels: { 'kubernetes.io/hostname': nodeName, 'kubernetes.io/os': 'linux' },
      },
    };
    try {
      await kube.call('POST', '/api/v1/nodes', node);
    } catch {}
    const t = now();
    await kube.call(
      'PATCH',
      `/api/v1/nodes/${nodeName}/status`,
      {
        status: {
          conditions: [
            {
              type: 'Ready',
              status: 'True',
              reason: 'KubeletReady',
              message: 'mesh lab node agent',
              lastHeartbeatTime: t,
              lastTransitionTime: t,
            },
          ],
          addresses: [
            { type: 'InternalIP', address: hostIp },
            { type: 'Hostname', address: nodeName },
          ],
          capacity: { cpu: '8', memory: '16Gi', pods: '110' },
          allocatable: { cpu: '8', memory: '16Gi', pods: '110' },
          nodeInfo: {
            kubeletVersion: 'v1.36.1-lab',
            containerRuntimeVersion: 'mesh-lab://emulated',
            operatingSystem: 'linux',
            architecture: 'amd64',
            machineID: '',
            systemUUID: '',
            bootID: '',
            kernelVersion: '',
            osImage: '',
            kubeProxyVersion: '',
          },
        },
      },
      'application/merge-patch+json',
    );
    const lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: nodeName, namespace: 'kube-node-lease' },
      spec: {
        holderIdentity: nodeName,
        leaseDurationSeconds: 40,
        renewTime: new Date().toISOString().replace('Z', '000Z'),
      },
    };
    try {
      await kube.call(
        'PUT',
        `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${nodeName}`,
        lease,
      );
    } catch {
      await kube
        .call('POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', lease)
        .catch(() => {});
    }
  };
  await heartbeat();
  let lastBeat = Date.now();
  while (!signal.aborted) {
    try {
      if (Date.now() - lastBeat > 10_000) {
        lastBeat = Date.now();
        await heartbeat();
      }
      // The scheduler's part: one node, so every pod goes to it.
      for (const p of await kube.list('/api/v1/pods?fieldSelector=spec.nodeName%3D')) {
        if (p.metadata.deletionTimestamp) continue;
        await kube
          .call(
            'POST',
            `/api/v1/namespaces/${p.metadata.namespace}/pods/${p.metadata.name}/binding`,
            {
              apiVersion: 'v1',
              kind: 'Binding',
              metadata: { name: p.metadata.name },
              target: { apiVersion: 'v1', kind: 'Node', name: nodeName },
            },
          )
          .catch((err) => log(`bind ${p.metadata.name}: ${(err as Error).message}`));
      }
      const services = await kube.list('/api/v1/services');
      const pods = await kube.list(`/api/v1/pods?fieldSelector=spec.nodeName%3D${nodeName}`);
      const seen = new Set<string>();
      for (const p of pods) {
        const uid = p.metadata.uid ?? '';
        seen.add(uid);
        let r = runners.get(uid);
        if (!r && p.metadata.deletionTimestamp) {
          // Being deleted and not (or no longer) running here: finish the
          // deletion, as a kubelet does; never start it again.
          await forceDelete(kube, p, log);
          continue;
        }
        if (!r) {
          if (p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') continue;
          r = new PodRunner(kube, p, log);
          runners.set(uid, r);
          log(`${r.key}: starting`);
          const runner = r;
          void runner.run(services).catch((err) => log(`${runner.key}: ${(err as Error).stack}`));
        }
        r.pod = p;
        if (p.metadata.deletionTimestamp && !r.stopping) {
          const runner = r;
          log(`${r.key}: stopping (grace ${p.metadata.deletionGracePeriodSeconds ?? '?'} s)`);
          void runner.stop().then(async () => {
            await forceDelete(kube, p, log);
            runners.delete(uid);
            log(`${runner.key}: stopped`);
          });
        }
        r.updateHosts(services);
        await r.flush();
      }
      for (const [uid, r] of runners) {
        if (!seen.has(uid) && !r.stopping) {
          void r.stop().then(() => runners.delete(uid));
        }
      }
    } catch (err) {
      log(`node agent: ${(err as Error).message}`);
    }
    await sleep(300);
  }
  await Promise.all([...runners.values()].map((r) => r.stop()));
}
