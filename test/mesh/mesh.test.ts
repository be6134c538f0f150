// The mesh lab's checks (docs/mesh-lab.md): real istiod and real Envoy
// sidecars enforce what mesh/ says. The lab is up for the whole mesh project
// (test/mesh/lab-setup.ts). Needs root (network namespaces), as CI has.
// The checks run in order and share the lab; the last one (promote and
// rollback) retires versions, so it stays last.
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import {
  describeTrace,
  type JaegerSpan,
  type JaegerTrace,
  jaegerQuery,
  parentOf,
  serviceOf,
  tagOf,
} from '../../scripts/lib/jaeger.js';
import { waitFor } from '../../scripts/mesh/processes.js';
import {
  asUser,
  call,
  containerPid,
  failedCalls,
  ghz,
  inPod,
  kubectl,
  lab,
  logLines,
  podDirs,
  podIps,
  repo,
  run,
  sleep,
  upstreamHosts,
} from './lab-access.js';

const gateway = inject('meshGateway');
const productPod = 'shop_product-service-v1';
const userPods = 'shop_user-service-v1';
const gatewayPod = 'istio-system_istio-ingressgateway';
const spiffe = (namespace: string, account: string) =>
  `spiffe://cluster.local/ns/${namespace}/sa/${account}`;

/** Access lines ("rpc") of a method in the user-service pods' app logs. */
const userAccessLines = (method: string) =>
  logLines(userPods, 'user-service').filter(
    (l) => l.msg === 'rpc' && l.method === `/shop.user.v1.UserService/${method}`,
  );

/** The canary tool on a copy of k8s/ and mesh/, so this checkout stays as committed. */
function canaryOnCopy() {
  const root = mkdtempSync(join(tmpdir(), 'mesh-canary-'));
  cpSync(join(repo, 'k8s'), join(root, 'k8s'), { recursive: true });
  cpSync(join(repo, 'mesh'), join(root, 'mesh'), { recursive: true });
  const canary = async (...args: string[]) => {
    await run(
      'npx',
      ['tsx', join(repo, 'scripts/canary.ts'), ...args, '--apply', '--overlay', 'lab'],
      {
        cwd: repo,
        env: { ...process.env, KUBECONFIG: join(lab, 'kubeconfig') },
      },
    ).catch((e: { stdout?: string; stderr?: string; message: string }) => {
      throw new Error(`canary ${args.join(' ')}: ${e.message}\n${e.stdout}${e.stderr}`);
    });
  };
  return {
    canary: (...args: string[]) => canary(...args, '--root', root),
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** The gateway's ProductService requests so far, per subset and per pod IP. */
async function productRequests() {
  const rows = (await upstreamHosts(gatewayPod)).filter((r) =>
    /^outbound\|50052\|(stable|canary)\|product-service\./.test(r.cluster),
  );
  const bySubset = { stable: 0, canary: 0 };
  const byIp = new Map<string, number>();
  for (const r of rows) {
    bySubset[r.cluster.split('|')[2] as 'stable' | 'canary'] += r.total;
    const ip = r.host.split(':')[0] as string;
    byIp.set(ip, (byIp.get(ip) ?? 0) + r.total);
  }
  return { bySubset, byIp };
}

const listProducts = (n: number, headers: string[] = []) =>
  ghz(gateway, 'shop.product.v1.ProductService/ListProducts', {
    data: {},
    args: ['-n', String(n), '-c', '5', ...headers],
  });

/**
 * Sends ListProducts through the gateway in batches until a batch is
 * answered only by `ips`; resolves with the seconds that took.
 */
async function secondsUntilServedBy(ips: string[], timeoutMs = 30_000): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    const before = (await productRequests()).byIp;
    await listProducts(50);
    const after = (await productRequests()).byIp;
    const elsewhere = [...after].filter(
      ([ip, n]) => !ips.includes(ip) && n > (before.get(ip) ?? 0),
    );
    if (elsewhere.length === 0) return (performance.now() - started) / 1000;
    await sleep(100);
  }
  throw new Error(`calls still reached pods other than ${ips.join(', ')}`);
}

/** Names of the shop's pods that are not being deleted (a terminating pod drains for a while). */
function livePods(labelSelector: string): string[] {
  const pods = JSON.parse(
    kubectl('-n', 'shop', 'get', 'pods', '-l', labelSelector, '-o', 'json'),
  ) as {
    items: { metadata: { name: string; deletionTimestamp?: string } }[];
  };
  return pods.items.filter((p) => !p.metadata.deletionTimestamp).map((p) => p.metadata.name);
}

function waitRollout(deployment: string) {
  return run(
    'kubectl',
    [
      `--kubeconfig=${join(lab, 'kubeconfig')}`,
      ...['-n', 'shop', 'rollout', 'status', `deployment/${deployment}`, '--timeout=120s'],
    ],
    { timeout: 130_000 },
  );
}

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

  it('STRICT mTLS: a plaintext client cannot reach user-service; a meshed one can, and the server sees its SPIFFE identity', async () => {
    for (const ip of podIps('shop', 'app=user-service')) {
      const r = await call(`${ip}:50051`, 'grpc.health.v1.Health/Check', {});
      expect(r.ok, r.out).toBe(false);
    }
    const get = await call(
      'user-service:50051',
      'shop.user.v1.UserService/GetUser',
      { id: userId },
      { prefix: inPod(productPod) },
    );
    expect(get.ok, get.out).toBe(true);
    // The sidecar in front of user-service passes the verified client
    // certificate's identity on (x-forwarded-client-cert); the service logs it.
    await sleep(500);
    const callers = new Set(userAccessLines('GetUser').map((l) => l.caller));
    console.log('GetUser callers seen by user-service:', [...callers]);
    expect([...callers]).toEqual([spiffe('shop', 'product-service')]);
    const creators = new Set(userAccessLines('CreateUser').map((l) => l.caller));
    expect([...creators]).toEqual([spiffe('istio-system', 'istio-ingressgateway-service-account')]);
  });

  it("authorization: product-service's identity may call GetUser and BatchGetUsers, not ListUsers", async () => {
    const prefix = inPod(productPod);
    const get = await call(
      'user-service:50051',
      'shop.user.v1.UserService/GetUser',
      { id: userId },
      { prefix },
    );
    expect(get.ok, get.out).toBe(true);
    expect(get.out).toContain(userId);
    const batch = await call(
      'user-service:50051',
      'shop.user.v1.UserService/BatchGetUsers',
      { ids: [userId] },
      { prefix },
    );
    expect(batch.ok, batch.out).toBe(true);
    const list = await call(
      'user-service:50051',
      'shop.user.v1.UserService/ListUsers',
      { page_size: 1 },
      { prefix },
    );
    expect(list.out).toContain('Code: PermissionDenied');
  });

  it('authorization: a pod with another service account (toolbox) is denied', async () => {
    const prefix = inPod('shop_toolbox');
    for (const method of ['GetUser', 'BatchGetUsers', 'ListUsers', 'CreateUser']) {
      const r = await call(
        'user-service:50051',
        `shop.user.v1.UserService/${method}`,
        {},
        { prefix },
      );
      expect(r.out, method).toContain('Code: PermissionDenied');
      expect(r.out, method).toContain('RBAC: access denied');
    }
    const products = await call(
      'product-service:50052',
      'shop.product.v1.ProductService/ListProducts',
      {},
      { prefix },
    );
    expect(products.out).toContain('Code: PermissionDenied');
  });

  it('header limits: the calling sidecar refuses requests with 300 headers, so no app reads them (such requests can abort Node: docs/hardening.md)', async () => {
    const prefix = inPod(productPod);
    const pids = podDirs(userPods).map((dir) => containerPid(dir, 'user-service'));
    const seenBefore = userAccessLines('GetUser').length;
    // Requests product-service's sidecar sent on to user-service, from its admin port.
    const forwarded = async () =>
      (await upstreamHosts(productPod))
        .filter((r) => /^outbound\|50051\|[^|]*\|user-service\./.test(r.cluster))
        .reduce((sum, r) => sum + r.total, 0);
    const forwardedBefore = await forwarded();
    // Over Envoy's default max_headers_count (100), under its 60 KiB of headers.
    const headers = Object.fromEntries(
      Array.from({ length: 300 }, (_, i) => [`x-many-${i}`, 'v'.repeat(50)]),
    );
    const refused = [];
    for (let i = 0; i < 20; i++) {
      refused.push(
        await call(
          'user-service:50051',
          'shop.user.v1.UserService/GetUser',
          { id: userId },
          {
            prefix,
            headers,
          },
        ),
      );
    }
    console.log('300 headers through the sidecars:', refused[0]?.out.trim());
    for (const r of refused) expect(r.ok, r.out).toBe(false);
    // Refused by the calling pod's own sidecar: not one of them left the pod.
    expect(await forwarded()).toBe(forwardedBefore);
    // The same call with few headers passes: it is the count that is refused.
    const few = await call(
      'user-service:50051',
      'shop.user.v1.UserService/GetUser',
      { id: userId },
      { prefix, headers: { 'x-few': 'v'.repeat(50) } },
    );
    expect(few.ok, few.out).toBe(true);
    expect(await forwarded()).toBe(forwardedBefore + 1);
    await sleep(500);
    // Only the ordinary call reached an app, and no app process was replaced.
    expect(userAccessLines('GetUser').length).toBe(seenBefore + 1);
    expect(podDirs(userPods).map((dir) => containerPid(dir, 'user-service'))).toEqual(pids);
    for (const pid of pids) expect(() => process.kill(pid, 0), `pid ${pid}`).not.toThrow();
  });

  it('one trace through the mesh: gateway, both sidecars and both services, app spans children of their sidecar', async () => {
    const traceId = randomBytes(16).toString('hex');
    const created = await call(
      gateway,
      'shop.product.v1.ProductService/CreateProduct',
      { name: 'Traced lamp', owner_id: userId, price: { currency_code: 'EUR', units: 12 } },
      {
        // CreateProduct through the gateway needs the owner's token (docs/gateway.md).
        headers: {
          ...asUser(userId),
          traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`,
        },
      },
    );
    expect(created.ok, created.out).toBe(true);
    const [jaegerIp] = podIps('observability', 'app=jaeger');
    const jaeger = jaegerQuery(`http://${jaegerIp}:16686`);
    const wanted = [
      'istio-ingressgateway.istio-system',
      'product-service.shop',
      'product-service',
      'user-service.shop',
      'user-service',
    ];
    // Complete once every service has spans and every span's parent has
    // arrived: each proxy flushes its spans on its own schedule, so a
    // sidecar's inbound span can come after the app spans under it.
    const complete = (t: JaegerTrace) => {
      const services = new Set(t.spans.map((s) => serviceOf(t, s)));
      const ids = new Set(t.spans.map((s) => s.spanID));
      const orphans = t.spans.filter((s) => !ids.has(parentOf(s) ?? ''));
      return wanted.every((w) => services.has(w)) && orphans.length === 1;
    };
    let trace: JaegerTrace | undefined;
    for (const started = Date.now(); Date.now() - started < 30_000; await sleep(500)) {
      trace = await jaeger.trace(traceId);
      if (trace && complete(trace)) break;
    }
    if (!trace) throw new Error(`no trace ${traceId} in the lab's Jaeger`);
    const t = trace;
    console.log(`trace ${traceId}:\n${describeTrace(t)}`);
    expect(new Set(t.spans.map((s) => serviceOf(t, s)))).toEqual(new Set(wanted));
    const byId = new Map(t.spans.map((s) => [s.spanID, s]));
    const serverSpans = (service: string) =>
      t.spans.filter((s) => serviceOf(t, s) === service && tagOf(s, 'span.kind') === 'server');
    for (const app of ['product-service', 'user-service']) {
      const spans = serverSpans(app);
      expect(spans.length, app).toBeGreaterThan(0);
      for (const span of spans) {
        const parent = byId.get(parentOf(span) ?? '') as JaegerSpan | undefined;
        expect(parent && serviceOf(t, parent), `${app}'s parent`).toBe(`${app}.shop`);
      }
    }
    // Every span but the first reaches the gateway's span through its parents.
    const roots = t.spans.filter((s) => !byId.has(parentOf(s) ?? ''));
    expect(roots.map((s) => serviceOf(t, s))).toEqual(['istio-ingressgateway.istio-system']);
  }, 60_000);

  it("route timeout and per-try retries: one user-service app stopped (SIGSTOP) costs reads time, not failures; both stopped, a read ends within the route's 2 s", async () => {
    const pids = podDirs(userPods).map((dir) => containerPid(dir, 'user-service'));
    const getUser = () =>
      call(
        'user-service:50051',
        'shop.user.v1.UserService/GetUser',
        { id: userId },
        { prefix: inPod(productPod), maxTime: 10 },
      );
    let one: Awaited<ReturnType<typeof call>>[] = [];
    let both: Awaited<ReturnType<typeof call>>;
    try {
      process.kill(pids[0] as number, 'SIGSTOP');
      one = await Promise.all(Array.from({ length: 12 }, getUser));
      for (const pid of pids.slice(1)) process.kill(pid, 'SIGSTOP');
      both = await getUser();
    } finally {
      for (const pid of pids) process.kill(pid, 'SIGCONT');
    }
    const slowest = Math.max(...one.map((r) => r.ms));
    console.log(
      `one app stopped: ${one.filter((r) => r.ok).length}/12 reads OK, slowest ${Math.round(slowest)} ms;`,
      `both stopped: ended after ${Math.round(both.ms)} ms: ${both.out.trim()}`,
    );
    // Without retries, the calls sent to the hung pod (about half) would all
    // fail. With them, about 1 read in 12–36 still ends at the route's 2 s:
    // the caller sidecar's per-host counters show its retry reached the healthy pod and
    // did not finish in the second left (open: docs/mesh-lab.md).
    const failed = one.filter((r) => !r.ok);
    expect(failed.length, failed.map((r) => r.out).join('\n')).toBeLessThanOrEqual(1);
    for (const r of failed) expect(r.out).toContain('upstream request timeout');
    expect(slowest).toBeLessThan(2600);
    // Envoy's answer: the callee's sidecar at the try's 1 s (DeadlineExceeded,
    // retried) or the caller's at the route's 2 s (Unavailable).
    expect(both.ok).toBe(false);
    expect(both.out).toMatch(/Code: (Unavailable|DeadlineExceeded)/);
    expect(both.out).toMatch(/timeout/);
    expect(both.ms).toBeGreaterThan(900);
    expect(both.ms).toBeLessThan(2600);
  }, 30_000);

  it('canary: `set 25` sends 25% ± 5 of 1,000 gateway calls to v2 (Envoy per-subset stats); x-canary: true sends all', async () => {
    const { canary, remove } = canaryOnCopy();
    try {
      await canary('set', '25');
      await sleep(2000);
      const before = (await productRequests()).bySubset;
      await listProducts(1000);
      const after = (await productRequests()).bySubset;
      const toCanary = after.canary - before.canary;
      const total = toCanary + after.stable - before.stable;
      console.log(
        `canary share after set 25: ${toCanary}/${total} = ${(toCanary / total).toFixed(3)}`,
      );
      expect(total).toBeGreaterThanOrEqual(1000);
      expect(toCanary / total).toBeGreaterThan(0.2);
      expect(toCanary / total).toBeLessThan(0.3);
      const b2 = (await productRequests()).bySubset;
      await listProducts(1000, ['-m', '{"x-canary":"true"}']);
      const a2 = (await productRequests()).bySubset;
      expect(a2.stable - b2.stable).toBe(0);
      expect(a2.canary - b2.canary).toBeGreaterThanOrEqual(1000);
      await canary('set', '0');
      const seconds = await secondsUntilServedBy(podIps('shop', 'app=product-service,version=v1'));
      console.log(`set 0: all calls on v1 ${seconds.toFixed(1)} s after the command returned`);
      expect(seconds).toBeLessThan(5);
    } finally {
      remove();
    }
  }, 120_000);

  it('pod loss: SIGKILL of one of two user-service apps under load: reads retried (attempts seen at the server), creates never', async () => {
    // The SIGSTOP test before may have left a pod ejected by the caller
    // sidecar's outlier detection (5 local-origin failures, 30 s): a pod
    // that gets no reads cannot show their retries. Wait it out first.
    const waited = performance.now();
    await waitFor(
      "both user-service pods healthy endpoints of product-service's sidecar",
      async () => {
        const hosts = (await upstreamHosts(productPod)).filter((h) =>
          /^outbound\|50051\|stable\|user-service\./.test(h.cluster),
        );
        return hosts.length === 2 && hosts.every((h) => h.health === 'healthy');
      },
      60_000,
      500,
    );
    const waitedSeconds = (performance.now() - waited) / 1000;
    const [victim] = podDirs(userPods);
    const appPid = containerPid(victim as string, 'user-service');
    const retriedBefore = userAccessLines('GetUser').filter((l) => Number(l.attempt) > 1).length;
    const stamp = Date.now() % 1_000_000;
    // Reads with product-service's identity, through its sidecar (the reads
    // route: 2 retries on connect-failure, refused-stream, reset,
    // unavailable); creates through the gateway (the creates route: none).
    const reads = ghz('user-service:50051', 'shop.user.v1.UserService/GetUser', {
      prefix: inPod(productPod),
      data: { id: userId },
      args: ['-n', '2000', '-c', '5', '--rps', '200'],
    });
    const creates = ghz(gateway, 'shop.user.v1.UserService/CreateUser', {
      data: {
        username: `load${stamp}_{{.RequestNumber}}`,
        email: `load${stamp}_{{.RequestNumber}}@example.com`,
      },
      // Under the gateway's CreateUser rate limit (10/s, mesh/gateway-filters.yaml).
      args: ['-n', '80', '-c', '2', '--rps', '8'],
    });
    await sleep(3000);
    process.kill(appPid, 'SIGKILL');
    const [r, c] = await Promise.all([reads, creates]);
    await sleep(500);
    const retried = userAccessLines('GetUser').filter((l) => Number(l.attempt) > 1).length;
    const retriedCreates = userAccessLines('CreateUser').filter((l) => Number(l.attempt) > 1);
    console.log(
      `pod loss (after ${waitedSeconds.toFixed(1)} s waiting for healthy endpoints): reads ${failedCalls(r)} failed of ${r.count}, ${retried - retriedBefore} answered on a retry;`,
      `creates ${failedCalls(c)} failed of ${c.count}, ${retriedCreates.length} retried`,
      r.statusCodeDistribution,
      c.statusCodeDistribution,
      r.errorDistribution ?? {},
      c.errorDistribution ?? {},
    );
    expect(r.count).toBe(2000);
    expect(failedCalls(r)).toBeLessThanOrEqual(5);
    expect(retried - retriedBefore).toBeGreaterThan(0);
    expect(c.count).toBe(80);
    expect(c.statusCodeDistribution.ResourceExhausted ?? 0).toBe(0);
    expect(retriedCreates).toEqual([]);
  }, 120_000);

  it('rolling restart: `kubectl rollout restart` of user-service (2 replicas) under load fails no read', async () => {
    await waitRollout('user-service-v1');
    const before = new Set(livePods('app=user-service'));
    const reads = ghz('user-service:50051', 'shop.user.v1.UserService/GetUser', {
      prefix: inPod(productPod),
      data: { id: userId },
      args: ['-n', '2500', '-c', '5', '--rps', '100'],
    });
    await sleep(2000);
    const started = performance.now();
    kubectl('-n', 'shop', 'rollout', 'restart', 'deployment/user-service-v1');
    await waitRollout('user-service-v1');
    const seconds = (performance.now() - started) / 1000;
    const r = await reads;
    const after = livePods('app=user-service');
    console.log(
      `rolling restart: ${failedCalls(r)} failed of ${r.count} reads; rollout took ${seconds.toFixed(1)} s`,
      r.statusCodeDistribution,
      r.errorDistribution ?? {},
    );
    expect(after).toHaveLength(2);
    expect(after.some((name) => before.has(name))).toBe(false);
    expect(r.count).toBe(2500);
    expect(failedCalls(r)).toBe(0);
  }, 180_000);

  it('canary: promote and rollback take effect within seconds', async () => {
    const { canary, remove } = canaryOnCopy();
    const v = (version: string) => podIps('shop', `app=product-service,version=${version}`);
    try {
      await canary('set', '100');
      const toV2 = await secondsUntilServedBy(v('v2'));
      await canary('promote');
      const promoted = await secondsUntilServedBy(v('v2'));
      console.log(
        `set 100: all on v2 after ${toV2.toFixed(1)} s; promote: ${promoted.toFixed(1)} s`,
      );
      expect(promoted).toBeLessThan(5);
      // v1 back as the canary, taking half, then rolled back.
      await canary('start', 'v1');
      await waitRollout('product-service-v1');
      await canary('set', '50');
      await sleep(1000);
      await canary('rollback');
      const rolledBack = await secondsUntilServedBy(v('v2'));
      console.log(`rollback: all on v2 (stable) after ${rolledBack.toFixed(1)} s`);
      expect(rolledBack).toBeLessThan(5);
    } finally {
      remove();
    }
  }, 180_000);
});
