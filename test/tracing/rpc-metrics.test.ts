// RPC metrics on each service's Prometheus endpoint, from the real entry
// points with the telemetry preload, here with span export off (no OTLP
// endpoint): metrics do not depend on tracing, and trace context still
// crosses the services for the mesh's sake.
import { Metadata, status } from '@grpc/grpc-js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Services, spawnServices } from '../../scripts/lib/spawn-services.js';
import { newId } from '../../services/shared/api/ids.js';
import { unaryCall } from '../../services/shared/grpc/unary-call.js';
import { everyReadAsksUserService } from '../support/every-read-asks-user-service.js';
import { expectStatus } from '../support/rpc.js';
import { callerContext } from './support/caller-context.js';
import { type Sample, scrape } from './support/scrape.js';

let services: Services;

beforeAll(async () => {
  services = await spawnServices({
    env: everyReadAsksUserService,
    product: { SERVICE_VERSION: '2.0.0-canary' },
  });
});
afterAll(async () => {
  await services?.stop();
});

/** Call counts by method and status code: the _count series of the duration histogram. */
function counts(samples: Sample[], name: string): Record<string, number> {
  return Object.fromEntries(
    samples
      .filter((s) => s.name === `${name}_count`)
      .map((s) => [`${s.labels.rpc_method} ${s.labels.rpc_status_code}`, s.value]),
  );
}

it('counts calls by method and status code, server and client side, with the version', async () => {
  const name = `metrics_${Date.now()}`;
  const { user } = await unaryCall(services.userClient, 'createUser', {
    username: name,
    email: `${name}@example.com`,
    requestId: '',
  });
  const ownerId = user?.id ?? '';
  const price = { currencyCode: 'EUR', units: 5n, nanos: 0 };
  await unaryCall(services.productClient, 'createProduct', {
    name: 'Lamp',
    ownerId,
    price,
    requestId: '',
  });
  const list = { pageSize: 0, pageToken: '', ownerId: '' };
  await unaryCall(services.productClient, 'listProducts', list);
  await unaryCall(services.productClient, 'listProducts', list);
  await expectStatus(
    unaryCall(services.productClient, 'getProduct', { id: newId() }),
    status.NOT_FOUND,
  );
  await expectStatus(
    unaryCall(services.productClient, 'createProduct', {
      name: 'Lamp',
      ownerId: newId(),
      price,
      requestId: '',
    }),
    status.FAILED_PRECONDITION,
  );
  await expectStatus(
    unaryCall(services.userClient, 'getUser', { id: 'x' }),
    status.INVALID_ARGUMENT,
  );

  const product = await scrape(services.product.metricsUrl);
  expect(counts(product, 'rpc_server_call_duration')).toEqual({
    'shop.product.v1.ProductService/CreateProduct OK': 1,
    'shop.product.v1.ProductService/CreateProduct FAILED_PRECONDITION': 1,
    'shop.product.v1.ProductService/ListProducts OK': 2,
    'shop.product.v1.ProductService/GetProduct NOT_FOUND': 1,
  });
  expect(counts(product, 'rpc_client_call_duration')).toEqual({
    'shop.user.v1.UserService/GetUser OK': 1,
    'shop.user.v1.UserService/GetUser NOT_FOUND': 1,
    'shop.user.v1.UserService/BatchGetUsers OK': 2,
  });
  // Both listings resolved their owners (the dashboard's owner-resolution panel).
  expect(
    product
      .filter((s) => s.name === 'shop_product_owner_resolutions_total')
      .map((s) => [s.labels.resolution, s.value]),
  ).toEqual([['complete', 2]]);
  expect(counts(await scrape(services.user.metricsUrl), 'rpc_server_call_duration')).toEqual({
    'shop.user.v1.UserService/CreateUser OK': 1,
    'shop.user.v1.UserService/GetUser OK': 1,
    'shop.user.v1.UserService/GetUser NOT_FOUND': 1,
    'shop.user.v1.UserService/GetUser INVALID_ARGUMENT': 1,
    'shop.user.v1.UserService/BatchGetUsers OK': 2,
  });

  // Every series names its service and version, so canary error ratios are one query.
  const listed = product.find(
    (s) =>
      s.name === 'rpc_server_call_duration_count' &&
      s.labels.rpc_method === 'shop.product.v1.ProductService/ListProducts',
  );
  expect(listed?.labels).toMatchObject({
    rpc_system_name: 'grpc',
    service_name: 'product-service',
    service_version: '2.0.0-canary',
  });
  // Buckets in seconds, as the semantic conventions advise.
  const buckets = product.filter(
    (s) =>
      s.name === 'rpc_server_call_duration_bucket' &&
      s.labels.rpc_method === 'shop.product.v1.ProductService/ListProducts',
  );
  expect(buckets.map((b) => b.labels.le)).toContain('0.005');
  expect(buckets.find((b) => b.labels.le === '+Inf')?.value).toBe(2);
});

it('with span export off, still carries the caller trace context to UserService', async () => {
  const started = services.product.logs.find((l) => l.msg === 'telemetry started');
  expect(started?.traces).toMatch(/^off/);
  const caller = callerContext();
  const metadata = new Metadata();
  metadata.set('traceparent', caller.traceparent);
  await unaryCall(
    services.productClient,
    'listProducts',
    { pageSize: 0, pageToken: '', ownerId: '' },
    {},
    metadata,
  );
  await expect
    .poll(() =>
      services.user.logs.some((line) => line.msg === 'rpc' && line.trace_id === caller.traceId),
    )
    .toBe(true);
});
