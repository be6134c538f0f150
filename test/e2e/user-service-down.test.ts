// The real ProductService entry point with no UserService behind it, called
// with the real grpcurl: writes fail fast with UNAVAILABLE and a retry hint,
// reads still answer, and the process stays alive and ready.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { grpcurl, grpcurlJson, repo } from '../support/grpcurl.js';
import { freePort } from '../support/ports.js';

const dataDir = mkdtempSync(join(tmpdir(), 'shop-down-'));
let product: ChildProcess;
let address = '';
let output = '';
beforeAll(async () => {
  const [port, metrics, nobody] = [await freePort(), await freePort(), await freePort()];
  address = `127.0.0.1:${port}`;
  product = spawn(
    process.execPath,
    ['--import', './dist/services/shared/telemetry/register.js', 'dist/services/product/main.js'],
    {
      cwd: repo,
      env: {
        PATH: process.env.PATH,
        GRPC_PORT: String(port),
        METRICS_PORT: String(metrics),
        DATA_DIR: dataDir,
        // Nothing listens there: UserService is down.
        USER_SERVICE_ADDRESS: `127.0.0.1:${nobody}`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  product.stdout?.on('data', (chunk: Buffer) => {
    output += chunk;
  });
  await vi.waitFor(() => expect(output).toContain('"msg":"serving"'), { timeout: 20_000 });
});
afterAll(() => {
  product.kill('SIGKILL');
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
