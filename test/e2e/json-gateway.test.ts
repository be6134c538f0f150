// HTTP/JSON through the gateway's own filters in the real, pinned Envoy
// (test/support/json-gateway.ts: the filter configs read from
// mesh/gateway-filters.yaml and the generated mesh/gateway-transcoder.yaml),
// in front of the real UserService and ProductService processes: every
// google.api.http binding called with fetch over HTTP/1.1, errors as JSON
// google.rpc.Status with their details and the HTTP status of their code,
// and the sign-up rate limit shared by JSON and gRPC callers (429 for one,
// RESOURCE_EXHAUSTED for the other). Istio's own filters are tried in the
// mesh lab (test/mesh/gateway.test.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repo } from '../../scripts/lib/child-process.js';
import { httpBindings, registryOf, transcoderFile } from '../../scripts/lib/gateway-transcoder.js';
import { type Services, spawnServices } from '../../scripts/lib/spawn-services.js';
import { grpcurl } from '../support/grpcurl.js';
import { type JsonGateway, startJsonGateway } from '../support/json-gateway.js';

let services: Services;
let gateway: JsonGateway;
beforeAll(async () => {
  services = await spawnServices();
  gateway = await startJsonGateway({
    user: services.user.address,
    product: services.product.address,
  });
});
afterAll(async () => {
  await gateway?.stop();
  await services?.stop();
});

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: JSON as the gateway answered it, read by the assertions
  json: any;
}

/** Every request this file made and how it was answered: which bindings were reached. */
const sent: { method: string; path: string; answer: Answer }[] = [];

async function call(method: string, path: string, body?: unknown): Promise<Answer> {
  const response = await fetch(`${gateway.url}${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const answer = { status: response.status, headers: response.headers, text, json };
  sent.push({ method, path, answer });
  return answer;
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const nobody = '0190a000-0000-7000-8000-000000000000';
const detail = (answer: Answer, type: string) =>
  (answer.json?.details ?? []).find(
    (d: { '@type': string }) => d['@type'] === `type.googleapis.com/google.rpc.${type}`,
  );

let ada = '';

it('creates a user with the README’s curl: POST /v1/users, the request as the JSON body', async () => {
  const created = await call('POST', '/v1/users', {
    username: 'john_doe',
    email: 'john@example.com',
  });
  expect(created.status, created.text).toBe(200);
  expect(created.headers.get('content-type')).toBe('application/json');
  expect(created.json.user).toMatchObject({ username: 'john_doe', email: 'john@example.com' });
  expect(created.json.user.id).toMatch(uuid);
  // proto3 JSON names in, either spelling: request_id as requestId.
  const again = await call('POST', '/v1/users', {
    username: 'ada',
    email: 'ada@example.com',
    requestId: 'json-1',
  });
  expect(again.status, again.text).toBe(200);
  ada = again.json.user.id;
});

it('reads users: GET /v1/users/{id}, /v1/users:batchGet?ids=…, /v1/users?page_size=&page_token=', async () => {
  const got = await call('GET', `/v1/users/${ada}`);
  expect(got.status, got.text).toBe(200);
  expect(got.json.user).toMatchObject({ id: ada, username: 'ada' });
  const batch = await call('GET', `/v1/users:batchGet?ids=${ada}&ids=${nobody}`);
  expect(batch.status, batch.text).toBe(200);
  expect(batch.json.users.map((u: { id: string }) => u.id)).toEqual([ada]);
  expect(batch.json.notFoundIds).toEqual([nobody]);
  const first = await call('GET', '/v1/users?page_size=1');
  expect(first.status, first.text).toBe(200);
  expect(first.json.users).toHaveLength(1);
  expect(first.json.nextPageToken).toBeTruthy();
  const second = await call(
    'GET',
    `/v1/users?pageSize=1&pageToken=${encodeURIComponent(first.json.nextPageToken)}`,
  );
  expect(second.status, second.text).toBe(200);
  expect(second.json.users[0].id).not.toBe(first.json.users[0].id);
});

it('creates and reads products: POST /v1/products, GET /v1/products/{id}, GET /v1/products?owner_id=&page_size=', async () => {
  const ids: string[] = [];
  for (const name of ['Desk lamp', 'Chair']) {
    const created = await call('POST', '/v1/products', {
      name,
      owner_id: ada,
      price: { currency_code: 'EUR', units: 25, nanos: 500_000_000 },
    });
    expect(created.status, created.text).toBe(200);
    // int64 is a string in proto3 JSON; the owner comes resolved.
    expect(created.json.product).toMatchObject({
      name,
      ownerId: ada,
      price: { currencyCode: 'EUR', units: '25', nanos: 500_000_000 },
      owner: { id: ada, username: 'ada' },
    });
    ids.push(created.json.product.id);
  }
  const got = await call('GET', `/v1/products/${ids[0]}`);
  expect(got.status, got.text).toBe(200);
  expect(got.json).toMatchObject({
    product: { id: ids[0] },
    ownerResolution: 'OWNER_RESOLUTION_COMPLETE',
  });
  const page = await call('GET', `/v1/products?owner_id=${ada}&page_size=1`);
  expect(page.status, page.text).toBe(200);
  expect(page.json.products.map((p: { id: string }) => p.id)).toEqual([ids[0]]);
  const next = await call(
    'GET',
    `/v1/products?owner_id=${ada}&page_size=1&page_token=${encodeURIComponent(page.json.nextPageToken)}`,
  );
  expect(next.json.products.map((p: { id: string }) => p.id)).toEqual([ids[1]]);
});

it('answers a bad request 400 with a JSON google.rpc.Status carrying the BadRequest field violations', async () => {
  const bad = await call('POST', '/v1/users', { username: 'A', email: 'nope' });
  expect(bad.status, bad.text).toBe(400);
  expect(bad.headers.get('content-type')).toBe('application/json');
  expect(bad.json).toMatchObject({ code: 3, message: 'invalid request: username, email' });
  expect(detail(bad, 'ErrorInfo')).toMatchObject({ reason: 'INVALID_FIELDS' });
  expect(detail(bad, 'BadRequest').fieldViolations.map((v: { field: string }) => v.field)).toEqual([
    'username',
    'email',
  ]);
  const noOwner = await call('POST', '/v1/products', {
    name: 'Lamp',
    owner_id: nobody,
    price: { currency_code: 'EUR', units: 1 },
  });
  // FAILED_PRECONDITION is 400 too (the gRPC-HTTP mapping of google.rpc.Code).
  expect(noOwner.status, noOwner.text).toBe(400);
  expect(noOwner.json.code).toBe(9);
  expect(detail(noOwner, 'PreconditionFailure').violations[0]).toMatchObject({
    type: 'OWNER_EXISTS',
  });
});

it('answers NOT_FOUND 404 with the ResourceInfo as JSON', async () => {
  for (const [path, type] of [
    [`/v1/products/${nobody}`, 'shop.product.v1.Product'],
    [`/v1/users/${nobody}`, 'shop.user.v1.User'],
  ] as const) {
    const missing = await call('GET', path);
    expect(missing.status, missing.text).toBe(404);
    expect(missing.json.code).toBe(5);
    expect(detail(missing, 'ResourceInfo')).toEqual({
      '@type': 'type.googleapis.com/google.rpc.ResourceInfo',
      resourceType: type,
      resourceName: nobody,
    });
  }
  const duplicate = await call('POST', '/v1/users', { username: 'ada', email: 'ada@example.com' });
  expect(duplicate.status, duplicate.text).toBe(409);
  expect(detail(duplicate, 'ErrorInfo').reason).toMatch(/_TAKEN$/);
});

/** What the gateway answers a JSON caller itself: a google.rpc.Status as JSON, code and message. */
function expectGatewayStatus(answer: Answer, http: number, code: number, message: RegExp) {
  expect(answer.status, answer.text).toBe(http);
  expect(answer.headers.get('content-type')).toBe('application/json');
  expect(Object.keys(answer.json ?? {}).sort(), answer.text).toEqual(['code', 'message']);
  expect(answer.json.code).toBe(code);
  expect(answer.json.message).toMatch(message);
}

it('answers what maps to no binding itself, as JSON: unknown path 404, unknown query parameter 400, bad JSON 400, oversized body 413', async () => {
  expectGatewayStatus(await call('GET', '/v1/orders'), 404, 5, /Could not resolve \/v1\/orders/);
  expectGatewayStatus(await call('DELETE', `/v1/users/${ada}`), 404, 5, /Could not resolve/);
  expectGatewayStatus(
    await call('GET', '/v1/products?pagesize=1'),
    400,
    3,
    /Could not find field "pagesize"/,
  );
  const response = await fetch(`${gateway.url}/v1/users`, { method: 'POST', body: '{"username":' });
  const text = await response.text();
  expectGatewayStatus(
    { status: response.status, headers: response.headers, text, json: JSON.parse(text) },
    400,
    3,
    /./,
  );
  const huge = await call('POST', '/v1/products', { name: 'x'.repeat(70_000) });
  expectGatewayStatus(huge, 413, 8, /exceeds the configured limit/);
});

it('still serves gRPC on the same port, untouched by the transcoder', async () => {
  const r = await grpcurl([
    ...['-import-path', join(repo, 'proto'), '-proto', 'shop/product/v1/product_service.proto'],
    ...['-d', JSON.stringify({ owner_id: ada }), gateway.address],
    'shop.product.v1.ProductService/ListProducts',
  ]);
  expect(r.code, r.stderr).toBe(0);
  expect(JSON.parse(r.stdout).products).toHaveLength(2);
});

it('limits JSON and gRPC sign-ups with one bucket: HTTP 429 with retry-after for JSON, RESOURCE_EXHAUSTED for gRPC', async () => {
  // mesh/gateway-filters.yaml's sign-up bucket: 10, refilled at 10/s.
  await new Promise((r) => setTimeout(r, 1500)); // a full bucket to start from
  const started = performance.now();
  const burst = await Promise.all(
    Array.from({ length: 30 }, (_, i) =>
      call('POST', '/v1/users', { username: `burst${i}`, email: `burst${i}@example.com` }),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  const statuses = burst.map((a) => a.status);
  const passed = statuses.filter((s) => s === 200).length;
  const limited = burst.filter((a) => a.status === 429);
  console.log(
    `30 JSON sign-ups at once, in ${seconds.toFixed(2)} s: ${passed} passed, ${limited.length} got 429`,
  );
  expect(passed + limited.length, statuses.join(' ')).toBe(30);
  expect(passed).toBeGreaterThanOrEqual(10);
  expect(passed).toBeLessThanOrEqual(10 + Math.ceil(seconds * 10) + 1);
  expect(limited[0]?.headers.get('retry-after')).toBe('1');
  expectGatewayStatus(limited[0] as Answer, 429, 8, /^local_rate_limited$/);
  // The same bucket, chosen by the transcoded gRPC path: while JSON callers
  // keep it empty, gRPC sign-ups are refused too. (A gRPC call may still
  // catch a token as it is refilled: one refusal of three is the proof.)
  let flooding = true;
  let n = 0;
  const flood = Promise.all(
    Array.from({ length: 4 }, async () => {
      while (flooding && n < 2000) {
        const i = n++;
        await call('POST', '/v1/users', { username: `flood${i}`, email: `flood${i}@example.com` });
      }
    }),
  );
  const grpc: string[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await grpcurl([
      ...['-import-path', join(repo, 'proto'), '-proto', 'shop/user/v1/user_service.proto'],
      ...[
        '-d',
        JSON.stringify({ username: `grpc_flood${i}`, email: `grpc_flood${i}@example.com` }),
      ],
      ...[gateway.address, 'shop.user.v1.UserService/CreateUser'],
    ]);
    grpc.push(r.code === 0 ? 'OK' : (/Code: (\w+)/.exec(r.stderr)?.[1] ?? r.stderr));
    // A gRPC caller's refusal keeps its plain message: the JSON body is for JSON callers.
    if (r.code !== 0) expect(r.stderr).toMatch(/Message: local_rate_limited\n/);
  }
  flooding = false;
  await flood;
  console.log(`gRPC sign-ups during a JSON flood: ${grpc.join(', ')}`);
  expect(grpc).toContain('ResourceExhausted');
  for (const outcome of grpc) expect(['OK', 'ResourceExhausted']).toContain(outcome);
  await new Promise((r) => setTimeout(r, 1100));
  const after = await call('POST', '/v1/users', { username: 'after', email: 'after@example.com' });
  expect(after.status, after.text).toBe(200);
});

it('reached every google.api.http binding in the generated transcoder config', () => {
  const filter = parse(readFileSync(join(repo, transcoderFile), 'utf8'));
  const descriptor = filter.spec.configPatches[0].patch.value.typed_config.proto_descriptor_bin;
  const bindings = httpBindings(registryOf(Buffer.from(descriptor, 'base64')));
  expect(bindings.length).toBeGreaterThanOrEqual(7);
  const asRegex = (template: string) =>
    new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`);
  for (const b of bindings) {
    const reached = sent.some(
      ({ method, path, answer }) =>
        method === b.verb.toUpperCase() &&
        asRegex(b.template).test(path.split('?')[0] ?? '') &&
        answer.status === 200,
    );
    expect(reached, `${b.verb.toUpperCase()} ${b.template} was never answered 200`).toBe(true);
  }
});
