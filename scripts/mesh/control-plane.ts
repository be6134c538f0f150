// The lab's control plane, all real programs built from pinned sources into
// .tools/bin: etcd, kube-apiserver, kube-controller-manager and istiod
// (pilot-discovery), plus the services' PostgreSQL. They run on the host (not
// as pods), listening on loopback or the lab bridge's address only.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { findPostgresBin } from '../lib/find-postgres-bin.js';
import { apiserverUrl, hostIp, kubeconfigPath, ports, serviceCidr, stateDir, tool } from './lab.js';
import { type Started, start, waitFor } from './processes.js';

const pki = join(stateDir, 'pki');
const openssl = (...args: string[]) =>
  execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });

/** A CA, the API server's serving certificate, the service-account key pair and the admin token. */
export function makePki() {
  mkdirSync(pki, { recursive: true });
  const p = (f: string) => join(pki, f);
  if (existsSync(p('admin-token'))) return;
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '30',
    '-subj',
    '/CN=mesh-lab-ca',
    '-keyout',
    p('ca.key'),
    '-out',
    p('ca.crt'),
  );
  const san = [
    'IP:127.0.0.1',
    `IP:${hostIp}`,
    'IP:10.96.0.1',
    'DNS:localhost',
    'DNS:kubernetes',
    'DNS:kubernetes.default',
    'DNS:kubernetes.default.svc',
    'DNS:kubernetes.default.svc.cluster.local',
  ].join(',');
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=kube-apiserver',
    '-keyout',
    p('apiserver.key'),
    '-out',
    p('apiserver.csr'),
  );
  writeFileSync(p('apiserver.ext'), `subjectAltName=${san}\nextendedKeyUsage=serverAuth\n`);
  openssl(
    'x509',
    '-req',
    '-in',
    p('apiserver.csr'),
    '-CA',
    p('ca.crt'),
    '-CAkey',
    p('ca.key'),
    '-CAcreateserial',
    '-days',
    '30',
    '-extfile',
    p('apiserver.ext'),
    '-out',
    p('apiserver.crt'),
  );
  openssl('genrsa', '-out', p('sa.key'), '2048');
  openssl('rsa', '-in', p('sa.key'), '-pubout', '-out', p('sa.pub'));
  const token = randomBytes(24).toString('hex');
  // The lab's one user: cluster admin (system:masters), by a static token.
  writeFileSync(p('tokens.csv'), `${token},lab-admin,lab-admin,system:masters\n`, { mode: 0o600 });
  writeFileSync(p('admin-token'), token, { mode: 0o600 });
  writeFileSync(
    kubeconfigPath,
    `apiVersion: v1
kind: Config
clusters:
- name: mesh-lab
  cluster:
    server: ${apiserverUrl}
    certificate-authority: ${p('ca.crt')}
users:
- name: lab-admin
  user:
    token: ${token}
contexts:
- name: mesh-lab
  context: {cluster: mesh-lab, user: lab-admin}
current-context: mesh-lab
`,
    { mode: 0o600 },
  );
}

const baseEnv = () => ({ PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: stateDir });

export function startEtcd(): Started {
  return start(
    'etcd',
    tool('etcd'),
    [
      `--data-dir=${join(stateDir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${ports.etcdClient}`,
      `--listen-peer-urls=http://127.0.0.1:${ports.etcdPeer}`,
    ],
    { env: baseEnv() },
  );
}

export function startApiserver(): Started {
  const p = (f: string) => join(pki, f);
  return start(
    'kube-apiserver',
    tool('kube-apiserver'),
    [
      `--etcd-servers=http://127.0.0.1:${ports.etcdClient}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${ports.apiserver}`,
      // The `kubernetes` Service's endpoint; pods do not call the API server.
      `--advertise-address=${hostIp}`,
      `--tls-cert-file=${p('apiserver.crt')}`,
      `--tls-private-key-file=${p('apiserver.key')}`,
      `--client-ca-file=${p('ca.crt')}`,
      `--token-auth-file=${p('tokens.csv')}`,
      '--authorization-mode=RBAC',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${p('sa.pub')}`,
      `--service-account-signing-key-file=${p('sa.key')}`,
      // pilot-agent's certificate requests carry a token of audience istio-ca.
      '--api-audiences=https://kubernetes.default.svc.cluster.local,istio-ca',
      `--service-cluster-ip-range=${serviceCidr}`,
      // Webhooks (istiod's injector) are called at their Service's endpoints:
      // there is no kube-proxy to make ClusterIPs work on the host.
      '--enable-aggregator-routing=true',
      '--allow-privileged=true',
      '--profiling=false',
      `--cert-dir=${join(stateDir, 'apiserver-certs')}`,
    ],
    { env: baseEnv() },
  );
}

export function startControllerManager(): Started {
  const p = (f: string) => join(pki, f);
  return start(
    'kube-controller-manager',
    tool('kube-controller-manager'),
    [
      `--kubeconfig=${kubeconfigPath}`,
      '--leader-elect=false',
      '--secure-port=0',
      `--service-account-private-key-file=${p('sa.key')}`,
      `--root-ca-file=${p('ca.crt')}`,
      `--service-cluster-ip-range=${serviceCidr}`,
      '--cluster-name=mesh-lab',
      // Rolling updates and endpoint changes within a second, not at the default pace.
      '--concurrent-deployment-syncs=5',
    ],
    { env: baseEnv() },
  );
}

/** True once /readyz answers ok. */
export function apiserverReady(): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(`${apiserverUrl}/readyz`, { ca: execCa(), timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}
let caCache: Buffer | undefined;
function execCa() {
  caCache ??= execFileSync('cat', [join(pki, 'ca.crt')]);
  return caCache;
}

/**
 * istiod on the host: the real pilot-discovery with its CA and sidecar
 * injector, reading its mesh config and injection template from the
 * ConfigMaps `istioctl manifest generate` rendered (no files in its cwd).
 * Its xDS, CA and webhook ports listen on the bridge address, where pods
 * (and the API server, for the webhook) reach it as istiod.istio-system.svc.
 */
export function startIstiod(): Started {
  const cwd = join(stateDir, 'istiod');
  mkdirSync(cwd, { recursive: true });
  return start(
    'istiod',
    tool('pilot-discovery'),
    [
      'discovery',
      `--kubeconfig=${kubeconfigPath}`,
      `--grpcAddr=${hostIp}:${ports.istiodGrpc}`,
      `--secureGRPCAddr=${hostIp}:${ports.istiodXds}`,
      `--httpsAddr=${hostIp}:${ports.istiodWebhook}`,
      `--monitoringAddr=127.0.0.1:${ports.istiodMonitoring}`,
      `--httpAddr=127.0.0.1:${ports.istiodHttp}`,
      '--log_output_level=default:info',
      '--domain=cluster.local',
    ],
    {
      cwd,
      env: {
        ...baseEnv(),
        POD_NAME: 'istiod-lab',
        POD_NAMESPACE: 'istio-system',
        REVISION: 'default',
        PILOT_CERT_PROVIDER: 'istiod',
        CLUSTER_ID: 'Kubernetes',
        ISTIOD_ADDR: `istiod.istio-system.svc:${ports.istiodXds}`,
        // Upstream Envoy has none of Istio's own filters (istio.metadata_exchange,
        // istio.alpn, istio.stats): without these istiod sends config Envoy rejects.
        PILOT_ENABLE_METADATA_EXCHANGE: 'false',
        PILOT_ENABLE_ALPN_FILTER: 'false',
        PILOT_ENABLE_PROTOCOL_SNIFFING_FOR_OUTBOUND: 'true',
        PILOT_ENABLE_PROTOCOL_SNIFFING_FOR_INBOUND: 'true',
        INJECTION_WEBHOOK_CONFIG_NAME: 'istio-sidecar-injector',
        VALIDATION_WEBHOOK_CONFIG_NAME: 'istio-istio-system',
        ENABLE_CA_SERVER: 'true',
        JWT_POLICY: 'third-party-jwt',
        KUBECONFIG: kubeconfigPath,
      },
    },
  );
}

/** PostgreSQL for the services, on the bridge address: a private cluster made with initdb. */
export function startPostgres(): Started {
  const bin = findPostgresBin();
  const dir = join(stateDir, 'postgres');
  const data = join(dir, 'data');
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  if (!existsSync(join(data, 'PG_VERSION'))) {
    mkdirSync(dir, { recursive: true });
    chownSync(dir, uid, gid);
    execFileSync(
      join(bin, 'initdb'),
      [
        `--pgdata=${data}`,
        '--username=postgres',
        '--auth=trust',
        '--encoding=UTF8',
        '--locale=C',
        '--no-sync',
        '--no-instructions',
      ],
      { cwd: dir, uid, gid, stdio: 'ignore' },
    );
    // Pods connect from the lab's private range only; trust is fine for a lab
    // that exists for minutes on a bridge nothing else can reach.
    writeFileSync(
      join(data, 'pg_hba.conf'),
      'local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all 10.244.0.0/16 trust\n',
    );
  }
  return start(
    'postgres',
    join(bin, 'postgres'),
    [
      '-D',
      data,
      '-p',
      String(ports.postgres),
      '-k',
      dir,
      '-c',
      `listen_addresses=127.0.0.1,${hostIp}`,
      '-c',
      'fsync=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'max_connections=200',
    ],
    { cwd: dir, env: baseEnv(), logOwner: { uid, gid }, user: { uid, gid } },
  );
}

export async function waitApiserver() {
  await waitFor('kube-apiserver /readyz', () => apiserverReady(), 120_000, 500);
}
