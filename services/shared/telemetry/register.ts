// The telemetry preload, shared by both services. Each service has a
// preload.ts that calls registerTelemetry with its own name and metrics port,
// and every service process starts with it:
//
//   node --import ./dist/services/user/preload.js dist/services/user/main.js
//
// Under ESM the whole static import graph of main.js is loaded before any of
// its code runs, so a telemetry module imported first by main.js would start
// the SDK after @grpc/grpc-js is already loaded and unpatched. A preload runs
// before the graph is loaded; it registers the import-in-the-middle loader
// hook, through which instrumentations patch ESM imports, and then starts the
// SDK. Any failure here is logged and the process runs without telemetry.
import { readFileSync } from 'node:fs';
import { register } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../process/logger.js';
import { setProcessTelemetry } from './process-telemetry.js';
import { readTelemetryConfig, type TelemetryDefaults } from './telemetry-config.js';

// Nothing imported above may load @grpc/grpc-js (error-mapper.js does): an
// import before the hook is registered would be the unpatched copy for good.

/**
 * Modules the loader hook wraps: only those the instrumentations patch, so
 * every other module loads untouched.
 */
const instrumentedModules = ['@grpc/grpc-js', 'pg', 'pg-pool'];

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
    register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, {
      data: { include: instrumentedModules },
    });
    // Imported only now, after the hook, so nothing of the SDK's graph loads unhooked.
    const { startTelemetry } = await import('./start-telemetry.js');
    setProcessTelemetry(await startTelemetry(config, log));
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
