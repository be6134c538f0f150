// The real ProductService entry point with no UserService behind it, called
// with the real grpcurl: writes fail fast with UNAVAILABLE and a retry hint,
// reads still answer, and the process stays alive and ready.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort } from '../../scripts/lib/free-port.js';
import { type ServiceProcess, spawnService } from '../../scripts/lib/spawn-service.js';
import { grpcurl, grpcurlJson } from '../support/grpcurl.js';

const dataDir = mkdtempSync(join(tmpdir(), 'shop-down-'));
let product: ServiceProcess;
let address = '';
beforeAll(async () => {
  // Nothing listens there: UserService is down.
  const nobody = await freePort();
  product = await spawnService('product', {
    env: { DATA_DIR: dataDir, USER_SERVICE_ADDRESS: `127.0.0.1:${nobody}` },
  });
  address = product.address;
});
afterAll(async () => {
  await product.stop('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

it('fails CreateProduct fast with UNAVAILABLE and a RetryInfo', async () => {
  const result = await grpcurl([address, 'shop.product.v1.ProductService/CreateProduct'], {
    name: 'Lamp',
    owner_id: '01900000-0000-7000-8000-000000000000',
    price: { currency_code: 'EUR', units: 5 },
  });
  expect(result.code).not.toBe(0);
  expect(result.stderr).toContain('Code: Unavailable');
  expect(result.stderr).toContain('USER_SERVICE_UNAVAILABLE');
  expect(result.stderr).toContain('"@type": "type.googleapis.com/google.rpc.RetryInfo"');
});

it('keeps answering reads and health', async () => {
  expect(await grpcurlJson([address, 'shop.product.v1.ProductService/ListProducts'])).toEqual({
    ownerResolution: 'OWNER_RESOLUTION_COMPLETE',
  });
  expect(await grpcurlJson([address, 'grpc.health.v1.Health/Check'])).toEqual({
    status: 'SERVING',
  });
  expect(
    await grpcurlJson([address, 'grpc.health.v1.Health/Check'], { service: 'liveness' }),
  ).toEqual({
    status: 'SERVING',
  });
});
