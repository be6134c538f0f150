// The real entry point's lifecycle: SIGTERM drains and exits 0; a second
// signal while draining forces exit 1; health reports NOT_SERVING meanwhile.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { spawnService } from '../../scripts/lib/spawn-service.js';
import { HealthClient } from '../../services/gen/grpc/health/v1/health.pb.js';
import { ServerReflectionClient } from '../../services/gen/grpc/reflection/v1/reflection.pb.js';
import { unaryCall } from '../../services/shared/grpc/unary-call.js';

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const step of cleanup.splice(0).reverse()) step();
});

async function startUserProcess(grace: string) {
  const dataDir = mkdtempSync(join(tmpdir(), 'shop-signals-'));
  const service = await spawnService('user', {
    env: { DATA_DIR: dataDir, SHUTDOWN_GRACE: grace },
  });
  cleanup.push(() => {
    service.process.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });
  return service;
}

describe('signals on the real entry point', () => {
  it('drains on SIGTERM, flushes telemetry, closes the store, in that order, and exits 0', async () => {
    const service = await startUserProcess('10s');
    service.process.kill('SIGTERM');
    expect(await service.exited).toBe(0);
    const lines = service.logs;
    const sequence = lines
      .filter((l) => ['shutting down: draining calls', 'shutdown step', 'stopped'].includes(l.msg))
      .map((l) => (l.step as string | undefined) ?? l.msg);
    expect(sequence).toEqual([
      'shutting down: draining calls',
      'flush telemetry',
      'close store',
      'stopped',
    ]);
    expect(lines.map((l) => l.msg)).not.toContain('shutdown step failed');
  });

  it('reports NOT_SERVING while draining, and a second signal forces exit 1', async () => {
    const service = await startUserProcess('60s');
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

    service.process.kill('SIGTERM');
    await vi.waitFor(() => expect(statuses).toEqual([1, 2 /* NOT_SERVING */]));
    expect(service.process.exitCode).toBeNull(); // still draining the reflection stream
    service.process.kill('SIGTERM');
    expect(await service.exited).toBe(1);
    expect(service.lines.join('\n')).toContain('second signal, forcing exit');
    await expect(
      unaryCall(health, 'check', { service: '' }, { deadline: Date.now() + 2000 }),
    ).rejects.toThrow();
  });
});
