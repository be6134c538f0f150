// The real entry point's lifecycle: SIGTERM drains and exits 0; a second
// signal while draining forces exit 1; health reports NOT_SERVING meanwhile.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HealthClient } from '../../services/gen/grpc/health/v1/health.pb.js';
import { ServerReflectionClient } from '../../services/gen/grpc/reflection/v1/reflection.pb.js';
import { repo } from '../support/grpcurl.js';
import { freePort } from '../support/ports.js';
import { rpc } from '../support/rpc.js';

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const step of cleanup.splice(0).reverse()) step();
});

async function startUserService(grace: string) {
  const dataDir = mkdtempSync(join(tmpdir(), 'shop-signals-'));
  const port = await freePort();
  let output = '';
  const child: ChildProcess = spawn(process.execPath, ['dist/services/user/main.js'], {
    cwd: repo,
    env: { ...process.env, GRPC_PORT: String(port), DATA_DIR: dataDir, SHUTDOWN_GRACE: grace },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  cleanup.push(() => {
    child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });
  await vi.waitFor(() => expect(output).toContain('"msg":"serving"'), { timeout: 20_000 });
  return { child, exited, address: `127.0.0.1:${port}`, output: () => output };
}

describe('signals on the real entry point', () => {
  it('drains on SIGTERM, flushes telemetry, closes the store, in that order, and exits 0', async () => {
    const service = await startUserService('10s');
    service.child.kill('SIGTERM');
    expect(await service.exited).toBe(0);
    const lines = service
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg: string; step?: string });
    const sequence = lines
      .filter((l) => ['shutting down: draining calls', 'shutdown step', 'stopped'].includes(l.msg))
      .map((l) => l.step ?? l.msg);
    expect(sequence).toEqual([
      'shutting down: draining calls',
      'flush telemetry',
      'close store',
      'stopped',
    ]);
    expect(lines.map((l) => l.msg)).not.toContain('shutdown step failed');
  });

  it('reports NOT_SERVING while draining, and a second signal forces exit 1', async () => {
    const service = await startUserService('60s');
    // An open reflection stream is an in-flight call: draining waits for it.
    const reflection = new ServerReflectionClient(service.address, credentials.createInsecure());
    cleanup.push(() => reflection.close());
    const stream = reflection.serverReflectionInfo();
    stream.on('error', () => {});
    stream.write({ host: '', listServices: '' });
    await new Promise((resolve) => stream.once('data', resolve));

    const health = new HealthClient(service.address, credentials.createInsecure());
    cleanup.push(() => health.close());
    const watch = health.watch({ service: '' });
    watch.on('error', () => {});
    const statuses: number[] = [];
    watch.on('data', (m: { status: number }) => statuses.push(m.status));
    await vi.waitFor(() => expect(statuses).toEqual([1 /* SERVING */]));

    service.child.kill('SIGTERM');
    await vi.waitFor(() => expect(statuses).toEqual([1, 2 /* NOT_SERVING */]));
    expect(service.child.exitCode).toBeNull(); // still draining the reflection stream
    service.child.kill('SIGTERM');
    expect(await service.exited).toBe(1);
    expect(service.output()).toContain('second signal, forcing exit');
    await expect(
      rpc(health, 'check', { service: '' }, { deadline: Date.now() + 2000 }),
    ).rejects.toThrow();
  });
});
