// Calls arriving as from an Envoy sidecar: B3 multi-header context (Istio's
// Zipkin provider) or W3C traceparent, into services configured with
// OTEL_PROPAGATORS=tracecontext,baggage,b3multi and a sampling ratio of 0, so
// every recorded span below exists only because a sampled parent said so.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Jaeger, startJaeger } from '../../scripts/lib/jaeger.js';
import { type Services, spawnServices } from '../../scripts/lib/spawn-services.js';
import { everyReadAsksUserService } from '../support/every-read-asks-user-service.js';
import { grpcurl } from '../support/grpcurl.js';
import { callerContext } from './support/caller-context.js';
import { hasChain, ownerChain } from './support/chain.js';

let jaeger: Jaeger;
let services: Services;

beforeAll(async () => {
  jaeger = await startJaeger();
  services = await spawnServices({
    env: {
      ...everyReadAsksUserService,
      OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpEndpoint,
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_PROPAGATORS: 'tracecontext,baggage,b3multi',
      OTEL_TRACES_SAMPLER_ARG: '0',
      OTEL_METRICS_EXPORTER: 'none',
    },
  });
  const user = await grpcurl([
    '-d',
    JSON.stringify({ username: `b3_${Date.now()}`, email: `b3.${Date.now()}@example.com` }),
    services.user.address,
    'shop.user.v1.UserService/CreateUser',
  ]);
  const ownerId = JSON.parse(user.stdout).user.id;
  await grpcurl([
    '-d',
    JSON.stringify({ name: 'Lamp', owner_id: ownerId, price: { currency_code: 'EUR', units: 5 } }),
    services.product.address,
    'shop.product.v1.ProductService/CreateProduct',
  ]);
});

afterAll(async () => {
  await services?.stop();
  await jaeger?.stop();
});

const listProducts = (headers: Record<string, string>) =>
  grpcurl([
    ...Object.entries(headers).flatMap(([key, value]) => ['-H', `${key}: ${value}`]),
    services.product.address,
    'shop.product.v1.ProductService/ListProducts',
  ]);

const chain = ownerChain('ListProducts', 'resolve owners', 'BatchGetUsers');

const traceIdsLogged = (child: Services['user']) =>
  child.logs.filter((line) => line.msg === 'rpc').map((line) => line.trace_id);

it('continues a sampled B3 multi-header trace through both services', async () => {
  const sidecar = callerContext();
  const result = await listProducts({
    'x-b3-traceid': sidecar.traceId,
    'x-b3-spanid': sidecar.spanId,
    'x-b3-sampled': '1',
  });
  expect(result.code, result.stderr).toBe(0);

  const trace = await jaeger.waitForTrace(sidecar.traceId, (t) =>
    hasChain(t, sidecar.spanId, chain),
  );
  expect(trace.spans.every((span) => span.traceID === sidecar.traceId)).toBe(true);
  expect(trace.spans.length).toBeGreaterThanOrEqual(chain.length);
});

it('honours a sampled W3C parent even though the ratio samples no root span', async () => {
  const caller = callerContext(true);
  expect((await listProducts({ traceparent: caller.traceparent })).code).toBe(0);
  await jaeger.waitForTrace(caller.traceId, (t) => hasChain(t, caller.spanId, chain));
});

it('records nothing for an unsampled B3 parent, yet passes its trace id on to UserService', async () => {
  const sidecar = callerContext(false);
  const unsampled = await listProducts({
    'x-b3-traceid': sidecar.traceId,
    'x-b3-spanid': sidecar.spanId,
    'x-b3-sampled': '0',
  });
  expect(unsampled.code).toBe(0);
  // A root call too: the ratio of 0 decides it, and it is dropped as well.
  expect((await listProducts({})).code).toBe(0);
  const rootTraceId = traceIdsLogged(services.product).at(-1);
  expect(rootTraceId).toMatch(/^[0-9a-f]{32}$/);

  // Then a sampled call, so the exporter has provably flushed past the two above.
  const marker = callerContext(true);
  expect((await listProducts({ traceparent: marker.traceparent })).code).toBe(0);
  await jaeger.waitForTrace(marker.traceId, (t) => hasChain(t, marker.spanId, chain));

  expect(await jaeger.trace(sidecar.traceId)).toBeUndefined();
  expect(await jaeger.trace(rootTraceId as string)).toBeUndefined();
  // The context still crossed the hop: UserService logged the sidecar's trace id.
  expect(traceIdsLogged(services.user)).toContain(sidecar.traceId);
});

it('OTEL_METRICS_EXPORTER=none leaves no metrics endpoint', async () => {
  await expect(fetch(services.product.metricsUrl)).rejects.toThrow();
  const started = services.product.logs.find((l) => l.msg === 'telemetry started');
  expect(started?.metrics_port).toBe('off');
});
