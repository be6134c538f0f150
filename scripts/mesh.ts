// The mesh lab: a real Kubernetes control plane, real istiod and the shop's
// services as pods with real Envoy sidecars, on this one machine (root,
// Linux). The kubelet and container runtime are emulated (scripts/mesh/
// node-agent.ts, sandbox.ts, images.ts). See docs/mesh-lab.md.
//   npm run mesh -- up       bring it up; prints `gateway: HOST:PORT` once the mesh serves
//   npm run mesh -- status   what runs
//   npm run mesh -- down     stop everything and remove what it created
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { kubeconfigPath, repo, stateDir } from './mesh/lab.js';
import { openPathToRepo } from './mesh/path-to-repo.js';
import { alive, recordedPids } from './mesh/processes.js';
import { teardown } from './mesh/teardown.js';

const tools = ['etcd', 'kubernetes', 'istiod', 'istioctl', 'envoy', 'grpcurl'];

async function up() {
  const t0 = Date.now();
  if (process.getuid?.() !== 0)
    throw new Error('the mesh lab needs root (network namespaces, mounts, iptables)');
  await teardown((m) => console.log(`mesh: leftover: ${m}`));
  execFileSync(join(repo, 'scripts/install-tools.sh'), tools, { stdio: 'inherit' });
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: repo, stdio: 'inherit' });
  mkdirSync(stateDir, { recursive: true });
  openPathToRepo();
  const logFile = join(stateDir, 'daemon.log');
  const out = openSync(logFile, 'a');
  const daemon = spawn(
    process.execPath,
    ['--import', 'tsx', join(repo, 'scripts/mesh/daemon.ts')],
    {
      cwd: repo,
      detached: true,
      stdio: ['ignore', out, out],
      env: process.env,
    },
  );
  writeFileSync(join(stateDir, 'daemon.pid'), String(daemon.pid));
  daemon.unref();
  const ready = join(stateDir, 'ready');
  const failed = join(stateDir, 'failed');
  let shown = 0;
  for (;;) {
    const text = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
    process.stdout.write(text.slice(shown));
    shown = text.length;
    if (existsSync(ready)) break;
    if (existsSync(failed) || !alive(daemon.pid ?? 0)) {
      throw new Error(
        `the lab did not come up (${existsSync(failed) ? readFileSync(failed, 'utf8') : 'daemon exited'}); logs in ${stateDir}/logs`,
      );
    }
    await sleep(500);
  }
  const { gateway } = JSON.parse(readFileSync(ready, 'utf8')) as { gateway: string };
  const secs = ((Date.now() - t0) / 1000).toFixed(0);
  console.log(`\nmesh lab up in ${secs} s.\ngateway: ${gateway}\n`);
  console.log(`Try:
  .tools/bin/grpcurl -plaintext -d '{"username":"ada","email":"ada@example.com"}' ${gateway} shop.user.v1.UserService/CreateUser
  .tools/bin/grpcurl -plaintext -d '{"id":"<user id>"}' ${gateway} shop.user.v1.UserService/GetUser     # PermissionDenied
  .tools/bin/grpcurl -plaintext -d '{}' ${gateway} shop.product.v1.ProductService/ListProducts
  kubectl --kubeconfig ${kubeconfigPath} -n shop get pods -o wide
  npm run mesh -- status
  npm run mesh -- down`);
}

function status() {
  if (!existsSync(stateDir)) {
    console.log('mesh lab: not running');
    return;
  }
  for (const r of recordedPids())
    console.log(`${alive(r.pid) ? 'running' : 'gone   '} ${String(r.pid).padStart(7)} ${r.name}`);
  if (existsSync(join(stateDir, 'ready')))
    console.log(`ready: ${readFileSync(join(stateDir, 'ready'), 'utf8')}`);
  try {
    console.log(
      execFileSync(
        'kubectl',
        [`--kubeconfig=${kubeconfigPath}`, 'get', 'pods', '-A', '-o', 'wide'],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      ).toString(),
    );
  } catch {
    console.log('(API server not answering)');
  }
}

const command = process.argv[2];
if (command === 'up') await up();
else if (command === 'down') {
  await teardown((m) => console.log(`mesh: ${m}`));
  console.log('mesh lab: down');
} else if (command === 'status') status();
else {
  console.error('usage: npm run mesh -- up|status|down');
  process.exit(2);
}
