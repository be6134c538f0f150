// The telemetry preload, shared by both services. Each service has a
// preload.ts that calls registerTelemetry with its own name and metrics port,
// and every service process starts with it:
//
//   node --import ./dist/services/user/preload.js dist/services/user/main.js
//
// Under ESM the whole static import graph of main.js is loaded before any of
// its code runs, so a telemetry module imported first by main.js would start
// the SDK after @grpc/grpc-js is already loaded and unpatched. A preload runs
// before the graph is loaded: it starts the SDK, whose instrumentations hook
// require(), and then require()s the modules they patch itself. The modules
// we instrument (@grpc/grpc-js, pg, pg-pool) are CommonJS, and an ESM import
// of a CommonJS module that require() has already loaded gets that same,
// patched, module. So no ESM loader hook (import-in-the-middle) is needed:
// one would run every import of the process through a loader thread, which
// cost about 200 ms of CPU before SERVING (see docs/performance.md). Any
// failure here is logged and the process runs without telemetry.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../process/logger.js';
import { setProcessTelemetry } from './process-telemetry.js';
import { readTelemetryConfig, type TelemetryDefaults } from './telemetry-config.js';

// Nothing imported above may load @grpc/grpc-js (error-mapper.js does): a
// load before the instrumentations hook require() would be unpatched for good.

/**
 * The modules the instrumentations patch, loaded here once they are hooked.
 * pg only when DATABASE_URL is set, which is when a service uses PostgreSQL
 * (see service-config.ts): loading it costs about 70 ms, which SQLite
 * deployments never pay.
 */
function instrumentedModules(postgres: boolean): string[] {
  return ['@grpc/grpc-js', ...(postgres ? ['pg', 'pg-pool'] : [])];
}

/** The version in the nearest package.json above this file, the default service.version. */
function packageVersion(): string | undefined {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    try {
      const { version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        version?: unknown;
      };
      return typeof version === 'string' ? version : undefined;
    } catch {
      if (dirname(dir) === dir) return undefined;
    }
  }
}

/**
 * Registers the loader hook and starts the SDK, before the service's own
 * modules load. Never throws: a failure is logged and the process runs
 * without telemetry.
 */
export async function registerTelemetry(
  defaults: Omit<TelemetryDefaults, 'packageVersion'>,
): Promise<void> {
  // Named before the configuration is read, so even its errors say whose they are.
  const service = process.env.OTEL_SERVICE_NAME?.trim() || defaults.serviceName;
  let log = createLogger({ service });
  try {
    const config = readTelemetryConfig(process.env, {
      ...defaults,
      packageVersion: packageVersion(),
    });
    log = createLogger({ service: config.serviceName });
    if (config.disabled) {
      log.info('telemetry off (OTEL_SDK_DISABLED)');
      return;
    }
    // Imported only now: a service with telemetry off never loads the SDK.
    const { startTelemetry } = await import('./start-telemetry.js');
    const postgres = Boolean(process.env.DATABASE_URL);
    setProcessTelemetry(await startTelemetry(config, log, { postgres }));
    const require = createRequire(import.meta.url);
    for (const name of instrumentedModules(postgres)) require(name);
    log.info(
      {
        traces: config.traces
          ? { endpoint: config.traces.endpoint, sampler_ratio: config.traces.samplerRatio }
          : 'off (no OTEL_EXPORTER_OTLP_ENDPOINT)',
        metrics_port: config.metrics?.port ?? 'off',
        service_version: config.resource['service.version'],
      },
      'telemetry started',
    );
  } catch (error) {
    const err = error instanceof Error ? { type: error.name, message: error.message } : {};
    log.error({ err }, 'telemetry setup failed; running without it');
  }
}
