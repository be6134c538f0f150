// Where the mesh lab keeps its state and which addresses it uses. Everything
// the lab creates on the machine is named here or recorded under `stateDir`,
// so `npm run mesh -- down` can remove it by these records, also after a run
// that was killed.
import { join } from 'node:path';
import { repo } from '../lib/child-process.js';

export { repo };
export const stateDir = join(repo, '.mesh-lab');
export const bin = join(repo, '.tools/bin');
export const tool = (name: string) => join(bin, name);

/** The lab's bridge on the host and its address: the pods' gateway and the host as pods see it. */
export const bridge = 'mlab0';
export const hostIp = '10.244.0.1';
export const podCidrBits = 16;
/** Pods get 10.244.<n / 250>.<n % 250 + 2>, inside the bridge's private /16 only. */
export const podIp = (n: number) => `10.244.${Math.floor(n / 250)}.${(n % 250) + 2}`;
/** The Services' virtual IPs: never on any interface; each pod's sidecar captures them. */
export const serviceCidr = '10.96.0.0/16';
export const nodeName = 'lab-node';
/** Network namespaces and host-side veths of pods: mlab-<n> and mlv<n>. */
export const netnsName = (n: number) => `mlab-${n}`;
export const vethName = (n: number) => `mlv${n}`;

export const ports = {
  etcdClient: 23790,
  etcdPeer: 23800,
  apiserver: 16443,
  postgres: 25432,
  // istiod, on the bridge address only (pods reach it there; nothing else can).
  istiodGrpc: 15010,
  istiodXds: 15012,
  istiodWebhook: 15017,
  istiodMonitoring: 15014,
  // istiod's debug endpoints (/debug/syncz), on loopback.
  istiodHttp: 15080,
  // Prometheus (scripts/mesh/prometheus.ts): its API and /-/ready, on loopback.
  prometheus: 29090,
  // The Argo Rollouts controller's Prometheus metrics and /healthz. It binds
  // them on every interface (0.0.0.0, fixed in its source; no flag).
  rolloutsMetrics: 28090,
  rolloutsHealthz: 28080,
};

export const apiserverUrl = `https://127.0.0.1:${ports.apiserver}`;
export const kubeconfigPath = join(stateDir, 'kubeconfig');
