// The lab's supervisor: started detached by `npm run mesh -- up`, it brings
// the control plane up, runs the node agent, applies the lab overlay, writes
// .mesh-lab/ready (the gateway's address) once the mesh serves, and stops it
// all on SIGTERM (`npm run mesh -- down`).
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import {
  makePki,
  startApiserver,
  startControllerManager,
  startEtcd,
  startIstiod,
  startPostgres,
  waitApiserver,
} from './control-plane.js';
import { kubectl, renderIstio } from './istio.js';
import { connect } from './kube.js';
import { ports, repo, stateDir } from './lab.js';
import { createBridge } from './network.js';
import { runNodeAgent } from './node-agent.js';
import { type Started, stopGroup, waitFor } from './processes.js';
import { startPrometheus, waitPrometheus } from './prometheus.js';
import { rolloutsCrds, rolloutsHealthzUrl, startRolloutsController } from './rollouts.js';

const t0 = Date.now();
const log = (msg: string) =>
  console.log(`${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s ${msg}`);
const started: Started[] = [];
const stop = new AbortController();
let agent: Promise<void> | undefined;

function httpOk(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(url, { timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

async function shutdown(code: number) {
  log('stopping');
  stop.abort();
  await agent?.catch(() => {});
  for (const s of started.reverse()) await stopGroup(s.pid, 10_000);
  log('stopped');
  process.exit(code);
}

async function main() {
  createBridge();
  makePki();
  started.push(startEtcd());
  started.push(startPostgres());
  started.push(startApiserver());
  await waitApiserver();
  log('kube-apiserver ready');
  started.push(startControllerManager());
  // Prometheus finds the pods through the API server, as in a cluster
  // (k8s/components/monitoring/prometheus.yml; scripts/mesh/prometheus.ts).
  started.push(startPrometheus());
  const pgBin = execFileSync('sh', ['-c', 'ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1'])
    .toString()
    .trim();
  await waitFor('postgres', async () => {
    execFileSync(join(pgBin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(ports.postgres)], {
      stdio: 'ignore',
    });
    return true;
  });
  for (const db of ['user_service', 'product_service']) {
    try {
      execFileSync(
        join(pgBin, 'psql'),
        [
          '-h',
          '127.0.0.1',
          '-p',
          String(ports.postgres),
          '-U',
          'postgres',
          '-c',
          `CREATE DATABASE ${db}`,
        ],
        { stdio: 'ignore' },
      );
    } catch {
      // Exists from a previous up (the data dir is kept until down).
    }
  }
  log('postgres ready');
  const istio = renderIstio();
  await waitFor(
    'istio CRDs and resources applied',
    async () => {
      kubectl(['apply', '--server-side', '--force-conflicts', '-f', istio]);
      return true;
    },
    60_000,
    2000,
  );
  log('istio install applied');
  // Argo Rollouts (progressive delivery, test/mesh/progressive.test.ts): its
  // CRDs from the pinned module, then the controller; the lab overlay has no
  // Rollout, so it idles until k8s/overlays/lab-progressive is applied.
  kubectl(['apply', '--server-side', '--force-conflicts', '-k', rolloutsCrds()]);
  started.push(startRolloutsController());
  started.push(startIstiod());
  await waitFor(
    'istiod /ready',
    () => httpOk(`http://127.0.0.1:${ports.istiodHttp}/ready`),
    120_000,
    500,
  );
  log('istiod ready');
  await waitFor('rollouts-controller /healthz', () => httpOk(rolloutsHealthzUrl), 60_000, 500);
  log('rollouts-controller ready');
  await waitPrometheus();
  log('prometheus ready');
  const kube = connect();
  agent = runNodeAgent(kube, log, stop.signal);
  // The injector's caBundle is patched in by istiod; wait for it before any pod is created.
  await waitFor(
    'injection webhook caBundle',
    async () => {
      const w = await kube.get(
        '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/istio-sidecar-injector',
      );
      // biome-ignore lint/suspicious/noExplicitAny: webhook JSON.
      return (w as any).webhooks?.every((h: any) => h.clientConfig?.caBundle);
    },
    60_000,
    500,
  );
  const lab = kubectl(['kustomize', join(repo, 'k8s/overlays/lab')]);
  await waitFor(
    'lab overlay applied',
    async () => {
      // Client-side apply, as `npm run canary -- … --apply --overlay lab` does after it.
      kubectl(['apply', '-f', '-'], lab);
      return true;
    },
    60_000,
    2000,
  );
  log('lab overlay applied');
  for (const [ns, deploy] of [
    ['istio-system', 'istio-ingressgateway'],
    ['shop', 'user-service-v1'],
    ['shop', 'product-service-v1'],
    ['shop', 'product-service-v2'],
  ]) {
    await waitFor(
      `${ns}/${deploy} available`,
      async () => {
        const d = await kube.get(`/apis/apps/v1/namespaces/${ns}/deployments/${deploy}`);
        return (
          (d.status?.readyReplicas ?? 0) >= (d.spec?.replicas ?? 1) &&
          (d.status?.updatedReplicas ?? 0) >= (d.spec?.replicas ?? 1)
        );
      },
      240_000,
      500,
    );
    log(`${ns}/${deploy} ready`);
  }
  const gw = (
    await kube.list('/api/v1/namespaces/istio-system/pods?labelSelector=istio%3Dingressgateway')
  ).find((p) => p.status?.podIP);
  writeFileSync(
    join(stateDir, 'ready'),
    JSON.stringify({ gateway: `${gw?.status.podIP}:8080`, seconds: (Date.now() - t0) / 1000 }),
  );
  log(`mesh serving; gateway ${gw?.status.podIP}:8080`);
}

process.on('SIGTERM', () => void shutdown(0));
process.on('SIGINT', () => void shutdown(0));
main().catch(async (err) => {
  log(`bring-up failed: ${(err as Error).stack}`);
  writeFileSync(join(stateDir, 'failed'), String((err as Error).message));
  if (!existsSync(join(stateDir, 'keep-on-failure'))) await shutdown(1);
});
