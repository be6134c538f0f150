// A telemetry setup error must never take a service down: it is logged and
// the process runs without telemetry. Real entry points, real preload.

import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Services, spawnServices } from '../../scripts/lib/spawn-services.js';
import { newId } from '../../services/shared/api/ids.js';
import { unaryCall } from '../../services/shared/grpc/unary-call.js';
import { expectStatus } from '../support/rpc.js';

let services: Services;

beforeAll(async () => {
  services = await spawnServices({
    user: { METRICS_PORT: 'not-a-port' },
    product: { OTEL_SDK_DISABLED: 'true' },
  });
});
afterAll(async () => {
  await services?.stop();
});

it('serves calls after a telemetry setup error, and says what failed', async () => {
  const failed = services.user.logs.find(
    (line) => line.msg === 'telemetry setup failed; running without it',
  );
  expect(failed).toMatchObject({ level: 'error', service: 'user-service' });
  expect(JSON.stringify(failed)).toContain('METRICS_PORT');

  await expectStatus(unaryCall(services.userClient, 'getUser', { id: newId() }), status.NOT_FOUND);
});

it('OTEL_SDK_DISABLED=true serves without any telemetry', async () => {
  expect(services.product.logs.some((l) => l.msg === 'telemetry off (OTEL_SDK_DISABLED)')).toBe(
    true,
  );
  await expect(fetch(services.product.metricsUrl)).rejects.toThrow();
  const { products } = await unaryCall(services.productClient, 'listProducts', {
    pageSize: 0,
    pageToken: '',
    ownerId: '',
  });
  expect(products).toEqual([]);
});
