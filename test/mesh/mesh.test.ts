// The mesh lab's checks (docs/mesh-lab.md): real istiod and real Envoy
// sidecars enforce what mesh/ says. One lab for the whole file: up in
// beforeAll, down in afterAll. Needs root (network namespaces), as CI has.
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = join(import.meta.dirname, '../..');
const lab = join(repo, '.mesh-lab');
const grpcurl = join(repo, '.tools/bin/grpcurl');
const run = promisify(execFile);
const protoArgs = [
  ...['-import-path', join(repo, 'proto')],
  ...[
    '-proto',
    'shop/user/v1/user_service.proto',
    '-proto',
    'shop/product/v1/product_service.proto',
  ],
  ...['-proto', 'google/rpc/error_details.proto', '-proto', 'grpc/health/v1/health.proto'],
];
let gateway = '';

interface Result {
  ok: boolean;
  out: string;
}

async function call(
  address: string,
  method: string,
  body: unknown,
  prefix: string[] = [],
): Promise<Result> {
  const args = [
    ...prefix,
    grpcurl,
    '-plaintext',
    '-max-time',
    '5',
    ...protoArgs,
    '-d',
    JSON.stringify(body),
    address,
    method,
  ];
  try {
    const { stdout, stderr } = await run(args[0] as string, args.slice(1));
    return { ok: true, out: stdout + stderr };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { ok: false, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** Runs a command inside a pod's network and mount namespaces as uid 1000 (an app container's user). */
function inPod(podPrefix: string): string[] {
  const dir = readdirSync(join(lab, 'pods')).find((d) => d.startsWith(podPrefix));
  if (!dir) throw new Error(`no pod ${podPrefix}`);
  const n = dir.split('_').pop();
  const holder = readFileSync(join(lab, 'pids', `pod-${n}-sandbox.pid`), 'utf8').trim();
  return [
    'nsenter',
    '-t',
    holder,
    '-m',
    '-n',
    '--',
    'setpriv',
    '--reuid=1000',
    '--regid=1000',
    '--clear-groups',
    '--',
  ];
}

function podIp(labelSelector: string): string {
  return execFileSync('kubectl', [
    `--kubeconfig=${join(lab, 'kubeconfig')}`,
    '-n',
    'shop',
    'get',
    'pods',
    '-l',
    labelSelector,
    '-o',
    'jsonpath={.items[0].status.podIP}',
  ]).toString();
}

beforeAll(async () => {
  const { stdout } = await run('npx', ['tsx', join(repo, 'scripts/mesh.ts'), 'up'], {
    cwd: repo,
    maxBuffer: 64 << 20,
    timeout: 900_000,
  });
  const line = /^gateway: (\S+)$/m.exec(stdout);
  if (!line?.[1]) throw new Error(`mesh up printed no gateway line:\n${stdout.slice(-2000)}`);
  gateway = line[1];
}, 900_000);

afterAll(async () => {
  await run('npx', ['tsx', join(repo, 'scripts/mesh.ts'), 'down'], { cwd: repo, timeout: 180_000 });
}, 180_000);

describe('the mesh lab', () => {
  let userId = '';

  it('gateway: creates a user, lists products, and shows error details (the README recipe)', async () => {
    const created = await call(gateway, 'shop.user.v1.UserService/CreateUser', {
      username: `ada${Date.now() % 100000}`,
      email: `ada${Date.now()}@example.com`,
    });
    expect(created.out).toContain('"username"');
    userId = (JSON.parse(created.out) as { user: { id: string } }).user.id;
    const listed = await call(gateway, 'shop.product.v1.ProductService/ListProducts', {});
    expect(listed.ok, listed.out).toBe(true);
    const invalid = await call(gateway, 'shop.user.v1.UserService/CreateUser', {
      username: 'A',
      email: 'nope',
    });
    expect(invalid.out).toContain('Code: InvalidArgument');
    expect(invalid.out).toContain('google.rpc.BadRequest');
  });

  it('authorization: through the gateway GetUser is denied', async () => {
    const r = await call(gateway, 'shop.user.v1.UserService/GetUser', { id: userId || 'x' });
    expect(r.out).toContain('Code: PermissionDenied');
    expect(r.out).toContain('RBAC: access denied');
  });

  it('STRICT mTLS: a plaintext client outside the mesh cannot reach user-service', async () => {
    const r = await call(`${podIp('app=user-service')}:50051`, 'grpc.health.v1.Health/Check', {});
    expect(r.ok, r.out).toBe(false);
  });

  it("authorization: product-service's identity may call GetUser and BatchGetUsers, not ListUsers", async () => {
    const prefix = inPod('shop_product-service-v1');
    const get = await call(
      'user-service:50051',
      'shop.user.v1.UserService/GetUser',
      { id: userId },
      prefix,
    );
    expect(get.ok, get.out).toBe(true);
    expect(get.out).toContain(userId);
    const batch = await call(
      'user-service:50051',
      'shop.user.v1.UserService/BatchGetUsers',
      { ids: [userId] },
      prefix,
    );
    expect(batch.ok, batch.out).toBe(true);
    const list = await call(
      'user-service:50051',
      'shop.user.v1.UserService/ListUsers',
      { page_size: 1 },
      prefix,
    );
    expect(list.out).toContain('Code: PermissionDenied');
  });

  it('authorization: another identity (user-service itself) is denied GetUser', async () => {
    const r = await call(
      'user-service:50051',
      'shop.user.v1.UserService/GetUser',
      { id: userId },
      inPod('shop_user-service-v1'),
    );
    expect(r.out).toContain('Code: PermissionDenied');
  });

  it('canary: `set 25` sends 25% ± 5 of 1,000 gateway calls to v2 (Envoy per-subset stats); x-canary: true sends all', async () => {
    // The canary edits the manifests in place: here a copy's, so this
    // checkout's mesh/ stays as committed.
    const root = mkdtempSync(join(tmpdir(), 'mesh-canary-'));
    cpSync(join(repo, 'k8s'), join(root, 'k8s'), { recursive: true });
    cpSync(join(repo, 'mesh'), join(root, 'mesh'), { recursive: true });
    const canary = (...args: string[]) =>
      run(
        'npx',
        [
          'tsx',
          join(repo, 'scripts/canary.ts'),
          ...args,
          '--apply',
          '--overlay',
          'lab',
          '--root',
          root,
        ],
        {
          cwd: repo,
          env: { ...process.env, KUBECONFIG: join(lab, 'kubeconfig') },
        },
      );
    const gatewayPod = inPod('istio-system_istio-ingressgateway').slice(0, 4);
    const counts = async () => {
      const { stdout } = await run(gatewayPod[0] as string, [
        ...gatewayPod.slice(1),
        '-n',
        '--',
        'curl',
        '-s',
        '127.0.0.1:15000/clusters',
      ]);
      const sum = (subset: string) =>
        stdout
          .split('\n')
          .filter(
            (l) =>
              l.startsWith(`outbound|50052|${subset}|product-service.`) &&
              l.includes('::rq_total::'),
          )
          .reduce((n, l) => n + Number(l.split('::').pop()), 0);
      return { stable: sum('stable'), canary: sum('canary') };
    };
    const load = (headers: string[] = []) =>
      run(join(repo, '.tools/bin/ghz'), [
        ...[
          '--insecure',
          '--import-paths',
          join(repo, 'proto'),
          '--proto',
          'shop/product/v1/product_service.proto',
        ],
        ...[
          '--call',
          'shop.product.v1.ProductService/ListProducts',
          '-d',
          '{}',
          '-n',
          '1000',
          '-c',
          '10',
          ...headers,
          gateway,
        ],
      ]);
    try {
      await canary('set', '25');
      await new Promise((r) => setTimeout(r, 2000));
      const before = await counts();
      await load();
      const after = await counts();
      const toCanary = after.canary - before.canary;
      const total = toCanary + after.stable - before.stable;
      console.log(
        `canary share after set 25: ${toCanary}/${total} = ${(toCanary / total).toFixed(3)}`,
      );
      expect(total).toBeGreaterThanOrEqual(1000);
      expect(toCanary / total).toBeGreaterThan(0.2);
      expect(toCanary / total).toBeLessThan(0.3);
      const b2 = await counts();
      await load(['-m', '{"x-canary":"true"}']);
      const a2 = await counts();
      expect(a2.stable - b2.stable).toBe(0);
      expect(a2.canary - b2.canary).toBeGreaterThanOrEqual(1000);
    } finally {
      await canary('set', '0').catch(() => {});
      rmSync(root, { recursive: true, force: true });
    }
  }, 120_000);

  it('pod loss: SIGKILL of one of two user-service apps under 200 calls/s costs reads (almost) nothing', async () => {
    // product-service's identity, through its sidecar (the GetUser route's
    // retries: 2 attempts on connect-failure, reset, unavailable).
    const victim = readdirSync(join(lab, 'pods'))
      .filter((d) => d.startsWith('shop_user-service-v1'))
      .pop() as string;
    const appPid = Number(
      readFileSync(join(lab, 'pids', `pod-${victim.split('_').pop()}-user-service.pid`), 'utf8'),
    );
    const prefix = inPod('shop_product-service-v1');
    const ghz = run(
      prefix[0] as string,
      [
        ...prefix.slice(1),
        join(repo, '.tools/bin/ghz'),
        ...[
          '--insecure',
          '--import-paths',
          join(repo, 'proto'),
          '--proto',
          'shop/user/v1/user_service.proto',
        ],
        ...[
          '--call',
          'shop.user.v1.UserService/GetUser',
          '-d',
          JSON.stringify({ id: userId }),
          '-z',
          '10s',
          '-c',
          '5',
          '--rps',
          '200',
          '--format',
          'json',
        ],
        'user-service:50051',
      ],
      { maxBuffer: 64 << 20 },
    ).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '{}' }));
    await new Promise((r) => setTimeout(r, 3000));
    process.kill(appPid, 'SIGKILL');
    const report = JSON.parse((await ghz).stdout) as {
      count: number;
      statusCodeDistribution: Record<string, number>;
    };
    const failed = report.count - (report.statusCodeDistribution.OK ?? 0);
    console.log(
      `pod loss: ${failed} failed of ${report.count} calls`,
      report.statusCodeDistribution,
    );
    expect(report.count).toBeGreaterThan(1500);
    expect(failed).toBeLessThanOrEqual(5);
  }, 60_000);
});
