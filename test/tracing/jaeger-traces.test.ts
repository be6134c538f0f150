// End to end against a real Jaeger: the compiled entry points run as child
// processes with the telemetry preload, exactly as in a pod, export over OTLP
// gRPC to the pinned Jaeger binary, and the assertions read Jaeger's HTTP
// query API. Each call carries a caller's traceparent, so the test knows the
// trace id and the span the ProductService server span must hang from.
import { Metadata, status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Jaeger,
  type JaegerTrace,
  serviceOf,
  startJaeger,
  tagOf,
} from '../../scripts/lib/jaeger.js';
import { type Services, spawnServices } from '../../scripts/lib/spawn-services.js';
import { OwnerResolution } from '../../services/gen/shop/product/v1/product_service.pb.js';
import { newId } from '../../services/shared/api/ids.js';
import { unaryCall } from '../../services/shared/grpc/unary-call.js';
import { everyReadAsksUserService } from '../support/every-read-asks-user-service.js';
import { grpcurl } from '../support/grpcurl.js';
import { callerContext } from './support/caller-context.js';
import { expectChain, grpcOp, hasChain, type Link, ownerChain } from './support/chain.js';

let jaeger: Jaeger;
let services: Services;
const suffix = Date.now().toString(36);
const owner = { id: '', username: `ada_${suffix}`, email: `ada.${suffix}@example.com` };

beforeAll(async () => {
  jaeger = await startJaeger();
  services = await spawnServices({
    env: {
      ...everyReadAsksUserService,
      OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpEndpoint,
      OTEL_BSP_SCHEDULE_DELAY: '100',
    },
    // service.version from each source: OTEL_RESOURCE_ATTRIBUTES wins over SERVICE_VERSION.
    user: {
      OTEL_RESOURCE_ATTRIBUTES: 'service.version=1.0.0,deployment.environment.name=ci',
      SERVICE_VERSION: '9.9.9',
    },
    product: {
      SERVICE_VERSION: '2.0.0-canary',
      K8S_POD_NAME: 'product-v2-7d9f-abcde',
      K8S_NAMESPACE_NAME: 'shop',
    },
  });
  const { user } = await unaryCall(services.userClient, 'createUser', {
    username: owner.username,
    email: owner.email,
    requestId: '',
  });
  owner.id = user?.id ?? '';
  await unaryCall(services.productClient, 'createProduct', {
    name: 'Desk lamp',
    ownerId: owner.id,
    price: { currencyCode: 'EUR', units: 25n, nanos: 0 },
    requestId: '',
  });
});

afterAll(async () => {
  await services?.stop();
  await jaeger?.stop();
});

/** Two ways a caller reaches ProductService: the grpcurl binary and the generated client. */
interface Driver {
  listProducts(traceparent: string): Promise<{ ok: boolean; ownersResolved?: boolean }>;
  createProduct(ownerId: string, traceparent: string): Promise<{ ok: boolean; code: string }>;
}

const viaGrpcurl: Driver = {
  async listProducts(traceparent) {
    const result = await grpcurl([
      '-H',
      `traceparent: ${traceparent}`,
      services.product.address,
      'shop.product.v1.ProductService/ListProducts',
    ]);
    const body = result.code === 0 ? JSON.parse(result.stdout) : {};
    return {
      ok: result.code === 0,
      ownersResolved: body.ownerResolution === 'OWNER_RESOLUTION_COMPLETE',
    };
  },
  async createProduct(ownerId, traceparent) {
    const result = await grpcurl([
      '-H',
      `traceparent: ${traceparent}`,
      '-d',
      JSON.stringify({
        name: 'Lamp',
        owner_id: ownerId,
        price: { currency_code: 'EUR', units: 5 },
      }),
      services.product.address,
      'shop.product.v1.ProductService/CreateProduct',
    ]);
    // grpcurl prints Go's code names: FailedPrecondition for FAILED_PRECONDITION.
    const goName = /Code: (\w+)/.exec(result.stderr)?.[1] ?? result.stderr;
    return {
      ok: result.code === 0,
      code: result.code === 0 ? 'OK' : goName.replace(/(?<=[a-z])(?=[A-Z])/g, '_').toUpperCase(),
    };
  },
};

const withTraceparent = (traceparent: string) => {
  const metadata = new Metadata();
  metadata.set('traceparent', traceparent);
  return metadata;
};

const viaTypedClient: Driver = {
  async listProducts(traceparent) {
    const response = await unaryCall(
      services.productClient,
      'listProducts',
      { pageSize: 0, pageToken: '', ownerId: '' },
      {},
      withTraceparent(traceparent),
    );
    return {
      ok: true,
      ownersResolved: response.ownerResolution === OwnerResolution.OWNER_RESOLUTION_COMPLETE,
    };
  },
  async createProduct(ownerId, traceparent) {
    return unaryCall(
      services.productClient,
      'createProduct',
      {
        name: 'Lamp',
        ownerId,
        price: { currencyCode: 'EUR', units: 5n, nanos: 0 },
        requestId: '',
      },
      {},
      withTraceparent(traceparent),
    ).then(
      () => ({ ok: true, code: 'OK' }),
      (error: { code: status }) => ({ ok: false, code: status[error.code] ?? '?' }),
    );
  },
};

/** Waits for the chain under the caller's span, then checks what every trace must show. */
async function expectTrace(caller: ReturnType<typeof callerContext>, chain: readonly Link[]) {
  const trace = await jaeger.waitForTrace(caller.traceId, (t) => hasChain(t, caller.spanId, chain));
  const spans = expectChain(trace, caller.spanId, chain);
  expectResource(trace, new Set(chain.map((link) => link.service)));
  return { trace, spans };
}

/** Each service's resource: a canary v2 is told apart from v1 by service.version. */
function expectResource(trace: JaegerTrace, services: Set<string>) {
  const resource = (service: string) =>
    Object.fromEntries(
      Object.values(trace.processes)
        .find((p) => p.serviceName === service)
        ?.tags.map((t) => [t.key, t.value]) ?? [],
    );
  expect(resource('product-service')).toMatchObject({
    'service.version': '2.0.0-canary',
    'deployment.environment.name': 'development',
    'k8s.pod.name': 'product-v2-7d9f-abcde',
    'k8s.namespace.name': 'shop',
  });
  if (!services.has('user-service')) return;
  expect(resource('user-service')).toMatchObject({
    'service.version': '1.0.0',
    'deployment.environment.name': 'ci',
  });
}

const accessLine = (child: Services['user'], traceId: string) =>
  child.logs.find((line) => line.msg === 'rpc' && line.trace_id === traceId);

describe.each([
  ['grpcurl', () => viaGrpcurl],
  ['the typed client', () => viaTypedClient],
])('through %s', (_name, driver) => {
  it('ListProducts is one trace: caller → ProductService → UserService → storage', async () => {
    const caller = callerContext();
    const result = await driver().listProducts(caller.traceparent);
    expect(result).toEqual({ ok: true, ownersResolved: true });

    const { trace, spans } = await expectTrace(
      caller,
      ownerChain('ListProducts', 'resolve owners', 'BatchGetUsers'),
    );
    const [server, resolve, client, userServer] = spans;
    expect(trace.spans.every((span) => span.traceID === caller.traceId)).toBe(true);
    expect(tagOf(server, 'rpc.grpc.status_code')).toBe(0);
    expect(tagOf(server, 'shop.owner_resolution')).toBe('complete');
    expect(tagOf(resolve, 'shop.owners.requested')).toBeGreaterThan(0);
    expect(tagOf(client, 'otel.status_code')).toBeUndefined();
    expect(tagOf(userServer, 'rpc.grpc.status_code')).toBe(0);
    // ProductService's own query hangs from its server span.
    expect(
      trace.spans.some(
        (s) => s.operationName === 'SELECT products' && s.references[0]?.spanID === server?.spanID,
      ),
    ).toBe(true);

    // One access line per call in each service, carrying the trace and its own span.
    await expect
      .poll(() => accessLine(services.product, caller.traceId))
      .toMatchObject({
        method: '/shop.product.v1.ProductService/ListProducts',
        code: 'OK',
        span_id: server?.spanID,
        duration_ms: expect.any(Number),
      });
    await expect
      .poll(() => accessLine(services.user, caller.traceId))
      .toMatchObject({
        method: '/shop.user.v1.UserService/BatchGetUsers',
        code: 'OK',
        span_id: userServer?.spanID,
      });
  });

  it('CreateProduct is one trace through the owner check and the insert', async () => {
    const caller = callerContext();
    const result = await driver().createProduct(owner.id, caller.traceparent);
    expect(result).toEqual({ ok: true, code: 'OK' });

    const { trace, spans } = await expectTrace(
      caller,
      ownerChain('CreateProduct', 'find owner', 'GetUser'),
    );
    const [server, find] = spans;
    expect(tagOf(find, 'shop.owner.found')).toBe(true);
    const insert = trace.spans.find((s) => s.operationName === 'INSERT products');
    expect(insert?.references[0]?.spanID).toBe(server?.spanID);
    expect(tagOf(insert, 'db.system.name')).toBe('sqlite');
    // Statement summaries only: no statement text, no parameter values.
    expect(insert?.tags.map((t) => t.key)).not.toContain('db.query.text');
  });

  it('a failing CreateProduct marks the spans on its path as errors with their gRPC codes', async () => {
    const caller = callerContext();
    const result = await driver().createProduct(newId(new Date()), caller.traceparent);
    expect(result).toEqual({ ok: false, code: 'FAILED_PRECONDITION' });

    const { spans } = await expectTrace(
      caller,
      ownerChain('CreateProduct', 'find owner', 'GetUser'),
    );
    const [server, find, client, userServer] = spans;
    expect(tagOf(server, 'otel.status_code')).toBe('ERROR');
    expect(tagOf(server, 'rpc.grpc.status_code')).toBe(status.FAILED_PRECONDITION);
    // An unknown owner is an answer, not a failure of the lookup itself.
    expect(tagOf(find, 'otel.status_code')).toBeUndefined();
    expect(tagOf(find, 'shop.owner.found')).toBe(false);
    for (const span of [client, userServer]) {
      expect(tagOf(span, 'otel.status_code')).toBe('ERROR');
      expect(tagOf(span, 'rpc.grpc.status_code')).toBe(status.NOT_FOUND);
    }
    await expect
      .poll(() => accessLine(services.product, caller.traceId))
      .toMatchObject({
        code: 'FAILED_PRECONDITION',
      });
  });
});

it('health checks are not traced, so probes do not bury real traces', async () => {
  const result = await grpcurl([services.product.address, 'grpc.health.v1.Health/Check']);
  expect(result.stdout).toContain('SERVING');
  await new Promise((r) => setTimeout(r, 1000));
  const traces = await jaeger.traces('product-service', 200);
  const operations = traces.flatMap((t) => t.spans.map((s) => s.operationName));
  expect(operations).not.toContain('grpc.grpc.health.v1.Health/Check');
  expect(operations.some((op) => op.includes('ServerReflection'))).toBe(false);
});

it('no e-mail address or username reaches a span or a log line', async () => {
  const traces = [
    ...(await jaeger.traces('product-service', 200)),
    ...(await jaeger.traces('user-service', 200)),
  ];
  expect(traces.length).toBeGreaterThan(0);
  const everything = [
    JSON.stringify(traces),
    ...services.user.lines,
    ...services.product.lines,
  ].join('\n');
  expect(everything).not.toContain(owner.email);
  expect(everything).not.toContain(owner.username);
});

// Last: it stops UserService for good.
it('with UserService down, ListProducts degrades and the trace shows where and why', async () => {
  expect(await services.user.stop()).toBe(0);
  const caller = callerContext();
  const result = await viaTypedClient.listProducts(caller.traceparent);
  expect(result).toEqual({ ok: true, ownersResolved: false });

  const chain: Link[] = ownerChain('ListProducts', 'resolve owners', 'BatchGetUsers').slice(0, 3);
  const { trace, spans } = await expectTrace(caller, chain);
  const [server, resolve, client] = spans;
  expect(tagOf(server, 'otel.status_code')).toBeUndefined();
  expect(tagOf(server, 'shop.owner_resolution')).toBe('unavailable');
  expect(tagOf(resolve, 'otel.status_code')).toBe('ERROR');
  expect(tagOf(resolve, 'otel.status_description')).toContain('UNAVAILABLE');
  expect(tagOf(resolve, 'shop.owner_resolution')).toBe('unavailable');
  expect(tagOf(client, 'rpc.grpc.status_code')).toBe(status.UNAVAILABLE);
  expect(trace.spans.map((s) => serviceOf(trace, s))).not.toContain('user-service');
  expect(grpcOp('user', 'BatchGetUsers')).toBe(client?.operationName);
});
