import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ServiceName, spawnService } from '../lib/spawn-service.js';

/** Milliseconds from exec to the `serving` log line, for each start. */
export interface StartupFigure {
  service: ServiceName;
  telemetry: 'on' | 'off';
  runs: number[];
  medianMs: number;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

/**
 * Starts `service` `runs` times, one after the other, on a fresh SQLite
 * file, and times exec to SERVING: from just before the spawn to the time
 * written on the service's `serving` line (health turns SERVING just before
 * it), so the polling of a health check adds nothing. Telemetry on means the
 * preload with a span exporter configured (to a port nothing listens on: the
 * exporter connects only when it first exports); off is OTEL_SDK_DISABLED.
 */
export async function measureStartup(
  service: ServiceName,
  telemetry: 'on' | 'off',
  runs = 3,
): Promise<StartupFigure> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const dataDir = mkdtempSync(join(tmpdir(), 'shop-bench-startup-'));
    const started = Date.now();
    const child = await spawnService(service, {
      wait: false,
      env: {
        DATA_DIR: dataDir,
        // ProductService starts without UserService; nothing answers here.
        USER_SERVICE_ADDRESS: '127.0.0.1:1',
        ...(telemetry === 'on'
          ? { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1' }
          : { OTEL_SDK_DISABLED: 'true' }),
      },
    });
    try {
      const line = await child.waitForLog((l) => l.msg === 'serving', 30_000);
      times.push(Date.parse(String(line.time)) - started);
    } finally {
      await child.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  return { service, telemetry, runs: times, medianMs: median(times) };
}
