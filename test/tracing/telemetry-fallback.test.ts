// A telemetry setup error must never take a service down: it is logged and
// the process runs without telemetry. Real entry points, real preload.

import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { newId } from '../../services/shared/ids.js';
import { expectStatus, rpc } from '../support/rpc.js';
import { jsonLines } from './support/child-process.js';
import { type Services, startServices } from './support/services.js';

let services: Services;

beforeAll(async () => {
  services = await startServices({
    user: { METRICS_PORT: 'not-a-port' },
    product: { OTEL_SDK_DISABLED: 'true' },
  });
});
afterAll(async () => {
  await services?.stop();
});

it('serves calls after a telemetry setup error, and says what failed', async () => {
  const failed = jsonLines(services.user.child).find(
    (line) => line.msg === 'telemetry setup failed; running without it',
  );
  expect(failed).toMatchObject({ level: 'error', service: 'user-service' });
  expect(JSON.stringify(failed)).toContain('METRICS_PORT');

  await expectStatus(rpc(services.userClient, 'getUser', { id: newId() }), status.NOT_FOUND);
});

it('OTEL_SDK_DISABLED=true serves without any telemetry', async () => {
  expect(
    jsonLines(services.product.child).some((l) => l.msg === 'telemetry off (OTEL_SDK_DISABLED)'),
  ).toBe(true);
  await expect(fetch(services.product.metricsUrl)).rejects.toThrow();
  const { products } = await rpc(services.productClient, 'listProducts', {
    pageSize: 0,
    pageToken: '',
    ownerId: '',
  });
  expect(products).toEqual([]);
});
