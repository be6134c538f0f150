// The ingress gateway as the API gateway (docs/gateway.md), through the lab's
// real Envoy gateway: JWT authentication and the public methods
// (mesh/gateway-authentication.yaml), ProductService's owner check, the
// local rate limits and the JSON access log (mesh/gateway-filters.yaml,
// mesh/gateway-access-log.yaml). The lab is up for the whole mesh project
// (test/mesh/lab-setup.ts); tokens are minted with the lab's test key.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { mintLabToken } from '../../scripts/lib/lab-token.js';
import { get, list, named, renderOverlay, text } from '../k8s/manifests.js';
import {
  asUser,
  call,
  type GhzReport,
  gatewayAccessLines,
  ghz,
  lab,
  podDirs,
  type Result,
  repo,
  run,
  sleep,
} from './lab-access.js';

const gateway = inject('meshGateway');
const gatewayPod = 'istio-system_istio-ingressgateway';
const createProduct = 'shop.product.v1.ProductService/CreateProduct';
const stamp = Date.now() % 1_000_000;
/** Every username and e-mail this file sends: none may reach the gateway's log. */
const personal: string[] = [];

function newUserBody(name: string) {
  const username = `gw${stamp}_${name}`;
  const email = `${username}@example.com`;
  personal.push(username, email);
  return { username, email };
}

const productBody = (ownerId: string) => ({
  name: 'Gateway lamp',
  owner_id: ownerId,
  price: { currency_code: 'EUR', units: 9 },
});

/** A W3C traceparent with a fresh trace id: how a test finds its call's access line. */
function traced(): { traceId: string; headers: Record<string, string> } {
  const traceId = randomBytes(16).toString('hex');
  return {
    traceId,
    headers: { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` },
  };
}

const code = (r: Result) => /Code: (\w+)/.exec(r.out)?.[1] ?? (r.ok ? 'OK' : 'none');

/** A method's bucket in one of the lab gateway's rate limit filters (k8s/overlays/lab). */
function labBucket(envoyFilter: string, filterName: string, method: string) {
  const filter = named(renderOverlay('lab').objects, 'EnvoyFilter', envoyFilter);
  const limit = list(filter, 'spec', 'configPatches')
    .map((p) => get(p, 'patch', 'value'))
    .find((v) => text(v, 'name') === filterName);
  const descriptor = list(limit, 'typed_config', 'descriptors').find(
    (d) => text(d, 'entries', 0, 'value') === method,
  );
  const bucket = get(descriptor, 'token_bucket');
  return {
    maxTokens: Number(get(bucket, 'max_tokens')),
    perSecond:
      Number(get(bucket, 'tokens_per_fill')) /
      Number.parseFloat(String(get(bucket, 'fill_interval'))),
  };
}

/**
 * A ghz burst against a token bucket: the calls it let through (answered
 * `passedCode` by the service), those refused, and how many the bucket should
 * have let through in the burst's time.
 */
function burstAgainst(
  report: GhzReport,
  bucket: { maxTokens: number; perSecond: number },
  passedCode: string,
) {
  const seconds = (report as GhzReport & { total: number }).total / 1e9;
  return {
    seconds,
    passed: report.statusCodeDistribution[passedCode] ?? 0,
    exhausted: report.statusCodeDistribution.ResourceExhausted ?? 0,
    expected: bucket.maxTokens + bucket.perSecond * seconds,
  };
}

describe('the API gateway', () => {
  let ownerId = '';
  let productId = '';

  beforeAll(async () => {
    const created = await call(
      gateway,
      'shop.user.v1.UserService/CreateUser',
      newUserBody('owner'),
    );
    expect(created.ok, created.out).toBe(true);
    ownerId = (JSON.parse(created.out) as { user: { id: string } }).user.id;
  });

  it('creates a product with a token for its owner, and serves the reads without one', async () => {
    const created = await call(gateway, createProduct, productBody(ownerId), {
      headers: asUser(ownerId),
    });
    expect(created.ok, created.out).toBe(true);
    productId = (JSON.parse(created.out) as { product: { id: string } }).product.id;
    const got = await call(gateway, 'shop.product.v1.ProductService/GetProduct', { id: productId });
    expect(got.ok, got.out).toBe(true);
    expect(got.out).toContain(ownerId);
    const listed = await call(gateway, 'shop.product.v1.ProductService/ListProducts', {
      owner_id: ownerId,
    });
    expect(listed.ok, listed.out).toBe(true);
    expect(listed.out).toContain(productId);
  });

  it('answers CreateProduct without a token UNAUTHENTICATED, saying a token is missing', async () => {
    const r = await call(gateway, createProduct, productBody(ownerId));
    expect(code(r), r.out).toBe('Unauthenticated');
    // A gRPC caller gets the plain message; the JSON body is for JSON callers.
    expect(r.out).toContain('Message: CreateProduct needs a token');
    expect(r.out).not.toContain('"code"');
  });

  it('answers a token that is expired, signed by another key, or garbled UNAUTHENTICATED', async () => {
    const expired = await call(gateway, createProduct, productBody(ownerId), {
      // Past jwt_authn's 60 s clock skew.
      headers: { authorization: `Bearer ${mintLabToken({ subject: ownerId, ttlSeconds: -600 })}` },
    });
    expect(code(expired), expired.out).toBe('Unauthenticated');
    expect(expired.out).toContain('Jwt is expired');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const forgedKey = await call(gateway, createProduct, productBody(ownerId), {
      headers: { authorization: `Bearer ${mintLabToken({ subject: ownerId, key: privateKey })}` },
    });
    expect(code(forgedKey), forgedKey.out).toBe('Unauthenticated');
    expect(forgedKey.out).toContain('Jwt verification fails');
    const otherIssuer = await call(gateway, createProduct, productBody(ownerId), {
      headers: {
        authorization: `Bearer ${mintLabToken({ subject: ownerId, issuer: 'https://evil.invalid' })}`,
      },
    });
    expect(code(otherIssuer), otherIssuer.out).toBe('Unauthenticated');
    const garbled = await call(gateway, createProduct, productBody(ownerId), {
      headers: { authorization: 'Bearer not.a.jwt' },
    });
    expect(code(garbled), garbled.out).toBe('Unauthenticated');
  });

  it("answers a token for another owner PERMISSION_DENIED, with ProductService's reason", async () => {
    const other = '0190a000-0000-7000-8000-000000000000';
    const r = await call(gateway, createProduct, productBody(ownerId), { headers: asUser(other) });
    expect(code(r), r.out).toBe('PermissionDenied');
    expect(r.out).toContain('OWNER_NOT_CALLER');
  });

  it('ignores a subject header the client sends, with or without a token', async () => {
    const forged = { 'x-shop-subject': ownerId };
    const noToken = await call(gateway, createProduct, productBody(ownerId), { headers: forged });
    expect(code(noToken), noToken.out).toBe('Unauthenticated');
    const other = '0190a000-0000-7000-8000-000000000001';
    const withToken = await call(gateway, createProduct, productBody(ownerId), {
      headers: { ...asUser(other), ...forged },
    });
    expect(code(withToken), withToken.out).toBe('PermissionDenied');
    // On a public call the header goes nowhere either: the gateway removed
    // it before anything read it, its own access line included.
    const { traceId, headers } = traced();
    const listed = await call(
      gateway,
      'shop.product.v1.ProductService/ListProducts',
      {},
      {
        headers: { ...headers, ...forged },
      },
    );
    expect(listed.ok, listed.out).toBe(true);
    await sleep(1500); // Envoy flushes its access log every second
    const lines = gatewayAccessLines().filter((l) => l.trace_id === traceId);
    expect(lines).toHaveLength(1);
    expect(lines[0]?.subject).toBeNull();
  });

  it('limits CreateUser to its configured rate, answering RESOURCE_EXHAUSTED with retry-after; then serves again', async () => {
    const bucket = labBucket(
      'shop-gateway',
      'envoy.filters.http.local_ratelimit',
      '/shop.user.v1.UserService/CreateUser',
    );
    await sleep(1500); // a full bucket to start from
    const burst = ghz(gateway, 'shop.user.v1.UserService/CreateUser', {
      data: {
        username: `gw${stamp}_burst_{{.RequestNumber}}`,
        email: `gw${stamp}_burst_{{.RequestNumber}}@example.com`,
      },
      args: ['-n', '200', '-c', '10', '--rps', '50'],
    });
    personal.push(`gw${stamp}_burst_`);
    await sleep(2000);
    const limited = await call(
      gateway,
      'shop.user.v1.UserService/CreateUser',
      newUserBody('limited'),
      {
        verbose: true,
      },
    );
    const report = await burst;
    const { seconds, passed, exhausted, expected } = burstAgainst(report, bucket, 'OK');
    console.log(
      `CreateUser burst: ${report.count} calls in ${seconds.toFixed(2)} s at 50/s, ` +
        `${passed} OK (expected ${expected.toFixed(1)} = ${bucket.maxTokens} + ${bucket.perSecond}/s), ` +
        `${exhausted} RESOURCE_EXHAUSTED: share ${(exhausted / report.count).toFixed(3)} ` +
        `(expected ${(1 - expected / report.count).toFixed(3)})`,
      report.statusCodeDistribution,
    );
    expect(report.count).toBe(200);
    expect(passed + exhausted).toBe(200);
    expect(Math.abs(passed - expected) / expected).toBeLessThanOrEqual(0.1);
    expect(Math.abs(exhausted / 200 - (1 - expected / 200)) / (1 - expected / 200)).toBeLessThan(
      0.1,
    );
    // The call in the middle of the burst found the bucket empty.
    expect(code(limited), limited.out).toBe('ResourceExhausted');
    expect(limited.out).toMatch(/^retry-after: 1$/m);
    // Normal traffic afterwards: a sign-up every 200 ms passes.
    await sleep(1000);
    for (let i = 0; i < 5; i++) {
      const r = await call(
        gateway,
        'shop.user.v1.UserService/CreateUser',
        newUserBody(`after${i}`),
      );
      expect(r.ok, r.out).toBe(true);
      await sleep(200);
    }
  }, 60_000);

  it("limits CreateProduct per signed-in user: one user's burst is cut to their own bucket while another user is served", async () => {
    const bucket = labBucket(
      'shop-gateway-subject-limit',
      'shop.subject-rate-limit',
      `/${createProduct}`,
    );
    // A signed-in user who is not the owner: ProductService refuses each
    // call that passes the gateway (OWNER_NOT_CALLER) without writing.
    const greedy = '0190a000-0000-7000-8000-0000000000aa';
    await sleep(2500); // a full bucket to start from
    const burst = ghz(gateway, createProduct, {
      data: productBody(ownerId),
      args: [
        ...['--metadata', JSON.stringify(asUser(greedy))],
        ...['-n', '150', '-c', '10', '--rps', '50'],
      ],
    });
    await sleep(1500);
    // Another user, while the greedy one's bucket is empty: served.
    const other = await call(gateway, createProduct, productBody(ownerId), {
      headers: asUser(ownerId),
    });
    // The greedy user meanwhile is refused. A call may still catch a token
    // as it is refilled, so one refusal of three is the proof.
    const middle: Result[] = [];
    for (let i = 0; i < 3; i++) {
      middle.push(
        await call(gateway, createProduct, productBody(ownerId), {
          headers: asUser(greedy),
          verbose: true,
        }),
      );
    }
    const report = await burst;
    const { seconds, passed, exhausted, expected } = burstAgainst(
      report,
      bucket,
      'PermissionDenied',
    );
    console.log(
      `CreateProduct burst of one user: ${report.count} calls in ${seconds.toFixed(2)} s at 50/s, ` +
        `${passed} passed the gateway (expected ${expected.toFixed(1)} = ${bucket.maxTokens} + ${bucket.perSecond}/s), ` +
        `${exhausted} RESOURCE_EXHAUSTED; the same user meanwhile: ${middle.map(code).join(', ')}; another user: ${code(other)}`,
      report.statusCodeDistribution,
    );
    expect(report.count).toBe(150);
    expect(passed + exhausted).toBe(150);
    expect(Math.abs(passed - expected) / expected).toBeLessThanOrEqual(0.1);
    const refused = middle.filter((r) => code(r) === 'ResourceExhausted');
    expect(refused.length, middle.map((r) => r.out).join('\n')).toBeGreaterThanOrEqual(1);
    for (const r of middle) expect(['ResourceExhausted', 'PermissionDenied']).toContain(code(r));
    expect(refused[0]?.out).toMatch(/^retry-after: 1$/m);
    // The other user's bucket is their own, and the gateway's shared one was not used up.
    expect(other.ok, other.out).toBe(true);
  }, 60_000);

  it('writes one JSON access line per call, with the fields an SRE searches by, and no token or personal data', async () => {
    const calls = [
      {
        method: 'shop.user.v1.UserService/CreateUser',
        body: newUserBody('logged'),
        headers: {},
        status: 'OK',
        subject: null,
      },
      {
        method: 'shop.product.v1.ProductService/GetProduct',
        body: { id: productId },
        headers: {},
        status: 'OK',
        subject: null,
      },
      {
        method: createProduct,
        body: productBody(ownerId),
        headers: asUser(ownerId),
        status: 'OK',
        subject: ownerId,
      },
      {
        method: createProduct,
        body: productBody(ownerId),
        headers: {},
        status: 'Unauthenticated',
        subject: null,
      },
    ];
    const sent: { traceId: string; call: (typeof calls)[number] }[] = [];
    for (const c of calls) {
      const { traceId, headers } = traced();
      const r = await call(gateway, c.method, c.body, { headers: { ...headers, ...c.headers } });
      expect(code(r), r.out).toBe(c.status);
      sent.push({ traceId, call: c });
    }
    await sleep(1500); // Envoy flushes its access log every second
    const all = gatewayAccessLines();
    for (const { traceId, call: c } of sent) {
      const lines = all.filter((l) => l.trace_id === traceId);
      expect(lines, `${c.method} ${c.status}`).toHaveLength(1);
      const line = lines[0] as Record<string, unknown>;
      expect(line).toMatchObject({
        path: `/${c.method}`,
        grpc_status: c.status,
        http_status: 200,
        subject: c.subject,
      });
      expect(typeof line.duration_ms).toBe('number');
      expect(typeof line.bytes_received).toBe('number');
      expect(typeof line.bytes_sent).toBe('number');
      expect(line.request_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(line.upstream_cluster).toMatch(
        /^outbound\|5005[12]\|(stable|canary)\|[a-z-]+\.shop\.svc\.cluster\.local$/,
      );
      if (c.status === 'OK') expect(line.bytes_sent).toBeGreaterThan(0);
    }
    console.log(
      'a gateway access line:',
      JSON.stringify(all.find((l) => l.trace_id === sent[2]?.traceId)),
    );
    // Nothing personal and no credential anywhere in the gateway's log:
    // not a token (a JWT starts `eyJ`), a username or an e-mail address.
    const log = podDirs(gatewayPod)
      .map((dir) => readFileSync(join(lab, 'pods', dir, 'istio-proxy.log'), 'utf8'))
      .join('\n');
    expect(log).not.toMatch(/eyJ[\w-]{10,}/);
    expect(log.toLowerCase()).not.toContain('bearer');
    for (const value of personal) expect(log).not.toContain(value);
  }, 60_000);
});

// HTTP/JSON through the same gateway (mesh/gateway-transcoder.yaml): the
// README's curl recipes as written, then each gateway rule for JSON callers.
describe('the API gateway over HTTP/JSON', () => {
  const url = `http://${gateway}`;
  let ownerId = '';

  /** One HTTP/1.1 call with a JSON body (fetch), as curl makes it. */
  async function json(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    // biome-ignore lint/suspicious/noExplicitAny: JSON as the gateway answered it, read by the assertions
    return { status: response.status, headers: response.headers, text, json: parsed as any };
  }

  beforeAll(async () => {
    const created = await json('POST', '/v1/users', newUserBody('jsonowner'));
    expect(created.status, created.text).toBe(200);
    ownerId = created.json.user.id;
  });

  it('answers the README’s curl recipes as the README says (HTTP/1.1, with and without a token)', async () => {
    const readme = readFileSync(join(repo, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Calling through the gateway'));
    const recipe = /```sh\n(ID=\$\(curl[\s\S]*?)```/.exec(section)?.[1];
    expect(recipe, 'no curl recipe in the README’s gateway section').toBeTruthy();
    // As pasted, but for the user's name: the lab's database outlives a run.
    const { username, email } = newUserBody('readme');
    const script = `G=${gateway}\n${(recipe ?? '')
      .replaceAll('john_doe', username)
      .replaceAll('john@example.com', email)}`;
    const { stdout } = await run('bash', ['-euo', 'pipefail', '-c', script], {
      cwd: repo,
      timeout: 60_000,
    });
    console.log(`the README's curl recipes:\n${stdout}`);
    // The gateway's own JSON answers end in a newline (Envoy's JSON format),
    // the services' do not: the status then starts a line of its own.
    const lines = stdout
      .trim()
      .replace(/\n (\d{3})$/gm, ' $1')
      .split('\n');
    expect(lines, stdout).toHaveLength(6);
    const [listed, missing, invalid, noToken, created, userRead] = lines as string[];
    expect(listed).toMatch(/^\{.*\} 200$/);
    expect(missing).toMatch(/"code":5.*google\.rpc\.ResourceInfo.* 404$/);
    expect(invalid).toMatch(/"code":3.*"fieldViolations":\[\{"field":"username".* 400$/);
    expect(noToken).toBe(
      '{"code":16,"message":"CreateProduct needs a token: send authorization: Bearer <JWT>"} 401',
    );
    expect(created).toMatch(/^\{"product":\{"id":"[0-9a-f-]{36}",.* 200$/);
    expect(userRead).toBe('{"code":7,"message":"RBAC: access denied"} 403');
  });

  it('applies the token and owner rules to JSON callers, with the same reasons as over gRPC', async () => {
    const body = productBody(ownerId);
    const noToken = await json('POST', '/v1/products', body);
    expect(noToken.status, noToken.text).toBe(401);
    // The gateway's own answers are a google.rpc.Status as JSON too.
    expect(noToken.headers.get('content-type')).toBe('application/json');
    expect(noToken.json).toEqual({
      code: 16,
      message: 'CreateProduct needs a token: send authorization: Bearer <JWT>',
    });
    // A forged subject header changes nothing: the gateway strips it first.
    const forged = await json('POST', '/v1/products', body, { 'x-shop-subject': ownerId });
    expect(forged.status, forged.text).toBe(401);
    const expired = await json('POST', '/v1/products', body, {
      authorization: `Bearer ${mintLabToken({ subject: ownerId, ttlSeconds: -600 })}`,
    });
    expect(expired.status, expired.text).toBe(401);
    expect(expired.json).toEqual({ code: 16, message: 'Jwt is expired' });
    const other = await json('POST', '/v1/products', body, {
      ...asUser('0190a000-0000-7000-8000-000000000002'),
      'x-shop-subject': ownerId,
    });
    expect(other.status, other.text).toBe(403);
    expect(other.json).toMatchObject({ code: 7 });
    expect(other.json.details).toContainEqual(
      expect.objectContaining({
        '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
        reason: 'OWNER_NOT_CALLER',
      }),
    );
    const own = await json('POST', '/v1/products', body, asUser(ownerId));
    expect(own.status, own.text).toBe(200);
    const id = own.json.product.id;
    const got = await json('GET', `/v1/products/${id}`);
    expect(got.status, got.text).toBe(200);
    expect(got.json.product.owner).toMatchObject({ id: ownerId });
    // User reads stay private over JSON too: the gateway's RBAC denies them.
    for (const path of [`/v1/users/${ownerId}`, '/v1/users', `/v1/users:batchGet?ids=${ownerId}`]) {
      const denied = await json('GET', path);
      expect(denied.status, `${path}: ${denied.text}`).toBe(403);
      expect(denied.json).toEqual({ code: 7, message: 'RBAC: access denied' });
    }
  });

  it('limits JSON sign-ups with the gRPC bucket: HTTP 429 with retry-after; gRPC callers RESOURCE_EXHAUSTED', async () => {
    const bucket = labBucket(
      'shop-gateway',
      'envoy.filters.http.local_ratelimit',
      '/shop.user.v1.UserService/CreateUser',
    );
    await sleep(1500); // a full bucket to start from
    const burst = await Promise.all(
      Array.from({ length: 3 * bucket.maxTokens }, (_, i) =>
        json('POST', '/v1/users', newUserBody(`jsonburst${i}`)),
      ),
    );
    const passed = burst.filter((r) => r.status === 200).length;
    const limited = burst.filter((r) => r.status === 429);
    console.log(
      `${burst.length} JSON sign-ups at once: ${passed} passed, ${limited.length} got 429`,
    );
    expect(passed + limited.length).toBe(burst.length);
    expect(passed).toBeGreaterThanOrEqual(bucket.maxTokens - 1);
    expect(passed).toBeLessThanOrEqual(bucket.maxTokens + 3);
    expect(limited[0]?.headers.get('retry-after')).toBe('1');
    expect(limited[0]?.json).toEqual({ code: 8, message: 'local_rate_limited' });
    // The same bucket, chosen by the transcoded gRPC path: while JSON callers
    // keep it empty, gRPC sign-ups are refused too (a gRPC call may still
    // catch a token as it is refilled: one refusal of three is the proof).
    let flooding = true;
    let sentDuringFlood = 0;
    const flood = Promise.all(
      Array.from({ length: 4 }, async () => {
        while (flooding && sentDuringFlood < 2000) {
          sentDuringFlood++;
          await json('POST', '/v1/users', newUserBody(`jsonflood${sentDuringFlood}`));
        }
      }),
    );
    const grpc: string[] = [];
    for (let i = 0; i < 3; i++) {
      grpc.push(
        code(
          await call(gateway, 'shop.user.v1.UserService/CreateUser', newUserBody(`jsongrpc${i}`)),
        ),
      );
    }
    flooding = false;
    await flood;
    console.log(`gRPC sign-ups during a JSON flood of ${sentDuringFlood}: ${grpc.join(', ')}`);
    expect(grpc).toContain('ResourceExhausted');
    for (const outcome of grpc) expect(['OK', 'ResourceExhausted']).toContain(outcome);
    await sleep(1100);
    const after = await json('POST', '/v1/users', newUserBody('jsonafter'));
    expect(after.status, after.text).toBe(200);
  }, 30_000);

  it('writes one access line per JSON call, with the gRPC method’s path and status', async () => {
    const { traceId, headers } = traced();
    const listed = await json(
      'GET',
      `/v1/products?owner_id=${ownerId}&page_size=5`,
      undefined,
      headers,
    );
    expect(listed.status, listed.text).toBe(200);
    await sleep(1500); // Envoy flushes its access log every second
    const lines = gatewayAccessLines().filter((l) => l.trace_id === traceId);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      path: '/shop.product.v1.ProductService/ListProducts',
      grpc_status: 'OK',
      http_status: 200,
      subject: null,
    });
    const log = podDirs(gatewayPod)
      .map((dir) => readFileSync(join(lab, 'pods', dir, 'istio-proxy.log'), 'utf8'))
      .join('\n');
    expect(log).not.toMatch(/eyJ[\w-]{10,}/);
    for (const value of personal) expect(log).not.toContain(value);
  });
});
