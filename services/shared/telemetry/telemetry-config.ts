import { ConfigError, type Env, readInteger, readOptionalString } from '../process/config.js';

/**
 * What the telemetry preload reads from the environment. Only the standard
 * OTEL_* variables configure it, plus three of ours: SERVICE_VERSION,
 * METRICS_PORT and the Kubernetes downward-API variables.
 */
export interface TelemetryConfig {
  /** OTEL_SDK_DISABLED=true: no SDK, no instrumentation, no propagation, no metrics. */
  disabled: boolean;
  /** OTEL_SERVICE_NAME, else service.name in OTEL_RESOURCE_ATTRIBUTES, else from the entry point. */
  serviceName: string;
  /** Resource attributes we add; OTEL_RESOURCE_ATTRIBUTES still wins over every one of them. */
  resource: Record<string, string>;
  /** Undefined: spans are not recorded or exported, though trace context still propagates. */
  traces: TracesConfig | undefined;
  /** Undefined: no Prometheus endpoint (OTEL_METRICS_EXPORTER=none). */
  metrics: { port: number } | undefined;
}

export interface TracesConfig {
  /** Where spans go (for logs; the exporter reads the OTLP variables itself). */
  endpoint: string;
  /** Undefined: OTEL_TRACES_SAMPLER is set and the SDK applies it as the spec says. */
  samplerRatio: number | undefined;
  batch: {
    maxQueueSize: number;
    maxExportBatchSize: number;
    scheduledDelayMillis: number;
    exportTimeoutMillis: number;
  };
}

/**
 * Batch span processor defaults, sized for sustained load rather than the
 * SDK's 2048-span queue. A call is 3 to 5 spans per service; at 2000 calls/s
 * that is up to 10,000 spans/s, so 2048 spans fill in 0.2 s of a slow export.
 * 16384 spans hold 1.5 s or more of that rate (tens of MB at most) while an
 * export of 1024 spans is in flight; past that, spans are dropped and counted
 * in otel_sdk_processor_span_processed_total{error_type="queue_full"}.
 */
const batchDefaults = {
  maxQueueSize: 16_384,
  maxExportBatchSize: 1024,
  scheduledDelayMillis: 1000,
  exportTimeoutMillis: 10_000,
};

const raw = (env: Env, name: string) => readOptionalString(env, name);

/** `key1=value1,key2=value2` with percent-encoded values, as the spec defines it. */
export function parseResourceAttributes(value: string | undefined): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const pair of value?.split(',') ?? []) {
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    try {
      attributes[pair.slice(0, at).trim()] = decodeURIComponent(pair.slice(at + 1).trim());
    } catch {
      // A malformed value is skipped, as the SDK's own parser does.
    }
  }
  return attributes;
}

function readRatio(env: Env, name: string): number {
  const value = raw(env, name);
  if (value === undefined) return 1;
  const ratio = Number(value);
  if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) {
    throw new ConfigError(`${name}: expected a ratio from 0 to 1, got ${JSON.stringify(value)}`);
  }
  return ratio;
}

function readBoolean(env: Env, name: string): boolean {
  const value = raw(env, name)?.toLowerCase();
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw new ConfigError(`${name}: expected true or false, got ${JSON.stringify(value)}`);
}

/** What the service itself says: its own config module knows these, this one does not. */
export interface TelemetryDefaults {
  /** service.name when neither OTEL_SERVICE_NAME nor OTEL_RESOURCE_ATTRIBUTES names one. */
  serviceName: string;
  /** The Prometheus port when METRICS_PORT is unset (each service has its own, so both run on one machine). */
  metricsPort: number;
  /** package.json version, used when neither OTEL_RESOURCE_ATTRIBUTES nor SERVICE_VERSION set one. */
  packageVersion?: string;
}

/**
 * OTEL_SDK_DISABLED              true turns everything off (default false)
 * OTEL_SERVICE_NAME              service.name (default: the service's own name)
 * OTEL_RESOURCE_ATTRIBUTES       extra resource attributes; wins over everything below
 * SERVICE_VERSION                service.version (default: package.json version)
 * K8S_POD_NAME, K8S_NAMESPACE_NAME, K8S_NODE_NAME  k8s.* attributes (downward API)
 * OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
 *                                OTLP gRPC collector; unset means spans are not recorded
 * OTEL_TRACES_EXPORTER           none turns span export off even with an endpoint
 * OTEL_TRACES_SAMPLER / _ARG     default parentbased_traceidratio with ratio _ARG (default 1)
 * OTEL_BSP_MAX_QUEUE_SIZE, OTEL_BSP_MAX_EXPORT_BATCH_SIZE, OTEL_BSP_SCHEDULE_DELAY,
 * OTEL_BSP_EXPORT_TIMEOUT        batch span processor (defaults above)
 * OTEL_METRICS_EXPORTER          prometheus (default) or none
 * METRICS_PORT                   Prometheus port (default: the service's own)
 */
export function readTelemetryConfig(env: Env, defaults: TelemetryDefaults): TelemetryConfig {
  const fromEnv = parseResourceAttributes(raw(env, 'OTEL_RESOURCE_ATTRIBUTES'));
  const serviceName =
    raw(env, 'OTEL_SERVICE_NAME') ?? fromEnv['service.name'] ?? defaults.serviceName;
  const environment =
    fromEnv['deployment.environment.name'] ?? fromEnv['deployment.environment'] ?? 'development';
  const resource: Record<string, string> = {
    'deployment.environment.name': environment,
    // The pre-1.27 name, which Jaeger and many dashboards still key on.
    'deployment.environment': environment,
  };
  const version =
    fromEnv['service.version'] ?? raw(env, 'SERVICE_VERSION') ?? defaults.packageVersion;
  if (version !== undefined) resource['service.version'] = version;
  const k8s = {
    'k8s.pod.name': 'K8S_POD_NAME',
    'k8s.namespace.name': 'K8S_NAMESPACE_NAME',
    'k8s.node.name': 'K8S_NODE_NAME',
  };
  for (const [attribute, variable] of Object.entries(k8s)) {
    const value = raw(env, variable);
    if (value !== undefined) resource[attribute] = value;
  }

  const endpoint =
    raw(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') ?? raw(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  const tracesExporter = raw(env, 'OTEL_TRACES_EXPORTER') ?? 'otlp';
  if (!['otlp', 'none'].includes(tracesExporter)) {
    throw new ConfigError(`OTEL_TRACES_EXPORTER: expected otlp or none, got "${tracesExporter}"`);
  }
  const ms = (name: string, fallback: number) =>
    readInteger(env, name, fallback, { min: 0, max: 600_000 });
  const traces: TracesConfig | undefined =
    endpoint === undefined || tracesExporter === 'none'
      ? undefined
      : {
          endpoint,
          samplerRatio:
            raw(env, 'OTEL_TRACES_SAMPLER') === undefined
              ? readRatio(env, 'OTEL_TRACES_SAMPLER_ARG')
              : undefined,
          batch: {
            maxQueueSize: readInteger(env, 'OTEL_BSP_MAX_QUEUE_SIZE', batchDefaults.maxQueueSize, {
              min: 1,
              max: 1_000_000,
            }),
            maxExportBatchSize: readInteger(
              env,
              'OTEL_BSP_MAX_EXPORT_BATCH_SIZE',
              batchDefaults.maxExportBatchSize,
              { min: 1, max: 1_000_000 },
            ),
            scheduledDelayMillis: ms('OTEL_BSP_SCHEDULE_DELAY', batchDefaults.scheduledDelayMillis),
            exportTimeoutMillis: ms('OTEL_BSP_EXPORT_TIMEOUT', batchDefaults.exportTimeoutMillis),
          },
        };

  const metricsExporter = raw(env, 'OTEL_METRICS_EXPORTER') ?? 'prometheus';
  if (!['prometheus', 'none'].includes(metricsExporter)) {
    throw new ConfigError(
      `OTEL_METRICS_EXPORTER: expected prometheus or none, got "${metricsExporter}"`,
    );
  }
  const metrics =
    metricsExporter === 'none'
      ? undefined
      : { port: readInteger(env, 'METRICS_PORT', defaults.metricsPort, { min: 1, max: 65_535 }) };

  return {
    disabled: readBoolean(env, 'OTEL_SDK_DISABLED'),
    serviceName,
    resource,
    traces,
    metrics,
  };
}
