// The span pipeline must never slow or break calls. Two ways a collector
// fails: it stops (connections refused), or it hangs (accepts TCP, never
// answers), which is worse: every export waits for its timeout.
import { createServer, type Server, type Socket } from 'node:net';
import { Metadata } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/lib/free-port.js';
import { type Jaeger, startJaeger } from '../../scripts/lib/jaeger.js';
import { type Services, spawnServices } from '../../scripts/lib/spawn-services.js';
import { unaryCall } from '../../services/shared/grpc/unary-call.js';
import { everyReadAsksUserService } from '../support/every-read-asks-user-service.js';
import { callerContext } from './support/caller-context.js';
import { hasChain, ownerChain } from './support/chain.js';

async function seed(services: Services): Promise<void> {
  const name = `down_${Date.now()}`;
  const { user } = await unaryCall(services.userClient, 'createUser', {
    username: name,
    email: `${name}@example.com`,
    requestId: '',
  });
  await unaryCall(services.productClient, 'createProduct', {
    name: 'Lamp',
    ownerId: user?.id ?? '',
    price: { currencyCode: 'EUR', units: 5n, nanos: 0 },
    requestId: '',
  });
}

/** Latencies (ms) of `count` sequential ListProducts calls, each crossing both services. */
async function timeCalls(services: Services, count: number): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const response = await unaryCall(services.productClient, 'listProducts', {
      pageSize: 0,
      pageToken: '',
      ownerId: '',
    });
    latencies.push(performance.now() - started);
    expect(response.products.length).toBeGreaterThan(0);
  }
  return latencies.sort((a, b) => a - b);
}

/**
 * What "not slowed" means here: an export waits seconds (its timeout) when
 * the collector hangs, so a call held by it would take that long. The bounds
 * are far below that, and far above a call's time on a busy 2-core machine.
 */
function expectUnslowed(latencies: number[]) {
  const median = latencies[Math.floor(latencies.length / 2)] ?? Infinity;
  expect(median, `median of ${latencies.length} calls`).toBeLessThan(150);
  expect(latencies.at(-1), 'slowest call').toBeLessThan(1500);
}

/** SIGTERM both and time it: the telemetry flush must not hold a pod past its grace period. */
async function stopTimed(services: Services) {
  const started = performance.now();
  const codes = await services.stop();
  return { codes, ms: performance.now() - started };
}

describe('a collector that stops', () => {
  let jaeger: Jaeger;
  let services: Services;
  beforeAll(async () => {
    jaeger = await startJaeger();
    services = await spawnServices({
      env: {
        ...everyReadAsksUserService,
        OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpEndpoint,
        OTEL_BSP_SCHEDULE_DELAY: '100',
      },
    });
    await seed(services);
  });
  afterAll(async () => {
    await services?.stop();
    await jaeger?.stop();
  });

  it('neither fails nor slows calls, and the services still stop cleanly', async () => {
    // Traces flow while it is up…
    const caller = callerContext();
    const metadata = new Metadata();
    metadata.set('traceparent', caller.traceparent);
    const request = { pageSize: 0, pageToken: '', ownerId: '' };
    await unaryCall(services.productClient, 'listProducts', request, {}, metadata);
    const chain = ownerChain('ListProducts', 'resolve owners', 'BatchGetUsers');
    await jaeger.waitForTrace(caller.traceId, (t) => hasChain(t, caller.spanId, chain));

    // …then it goes away.
    await jaeger.stop();
    expectUnslowed(await timeCalls(services, 100));

    const { codes, ms } = await stopTimed(services);
    expect(codes).toEqual([0, 0]);
    expect(ms).toBeLessThan(8000);
  });
});

describe('a collector that hangs, with a small span queue', () => {
  let blackhole: Server;
  const sockets = new Set<Socket>();
  let services: Services;
  beforeAll(async () => {
    const port = await freePort();
    // Accepts connections and never says a word: no HTTP/2 settings, no response.
    blackhole = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => blackhole.listen(port, '127.0.0.1', resolve));
    services = await spawnServices({
      env: {
        ...everyReadAsksUserService,
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
        OTEL_BSP_SCHEDULE_DELAY: '100',
        OTEL_BSP_MAX_QUEUE_SIZE: '50',
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '10',
      },
    });
    await seed(services);
  });
  afterAll(async () => {
    await services?.stop();
    for (const socket of sockets) socket.destroy();
    blackhole?.close();
  });

  it('keeps calls fast, bounds the queue by dropping spans, and counts every drop', async () => {
    expectUnslowed(await timeCalls(services, 100));

    const metrics = await (await fetch(services.product.metricsUrl)).text();
    const dropped = metrics
      .split('\n')
      .filter(
        (line) =>
          line.startsWith('otel_sdk_processor_span_processed_total') &&
          line.includes('error_type="queue_full"'),
      )
      .map((line) => Number(line.split(' ').at(-1)));
    // 100 calls make about 500 ProductService spans; at most 50 wait, the rest are counted.
    expect(dropped.length).toBe(1);
    expect(dropped[0]).toBeGreaterThan(100);
    expect(metrics).toMatch(/otel_sdk_processor_span_queue_capacity\{[^}]*\} 50\b/);
  });

  it('gives up flushing on SIGTERM instead of waiting out the hung collector', async () => {
    const { codes, ms } = await stopTimed(services);
    expect(codes).toEqual([0, 0]);
    expect(ms).toBeLessThan(9000);
    const failed = services.product.logs.find((line) => line.msg === 'shutdown step failed');
    expect(failed?.step).toBe('flush telemetry');
  });
});
