import { type DiagLogger, DiagLogLevel, diag, metrics } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { GrpcInstrumentation } from '@opentelemetry/instrumentation-grpc';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import {
  defaultResource,
  detectResources,
  envDetector,
  hostDetector,
  type Resource,
  resourceFromAttributes,
} from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { NodeSDK } from '@opentelemetry/sdk-node';
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace';
import type { Logger } from '../process/logger.js';
import type { Telemetry } from './process-telemetry.js';
import { summarizeSql } from './sql-summary.js';
import type { TelemetryConfig } from './telemetry-config.js';

/**
 * Health probes and reflection are not traced: kubelet and grpcurl call them
 * all the time and their traces would bury the real ones. Matched by method
 * name, the only form the instrumentation offers.
 */
const untracedMethods = ['Check', 'Watch', 'ServerReflectionInfo'];

/**
 * The resource on every span and metric: ours first, then what the
 * environment says (OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME) over it.
 * The process detector is left out: its process.owner is the OS user name.
 */
function buildResource(config: TelemetryConfig): Resource {
  return defaultResource()
    .merge(resourceFromAttributes(config.resource))
    .merge(detectResources({ detectors: [hostDetector, envDetector] }))
    .merge(resourceFromAttributes({ 'service.name': config.serviceName }));
}

/** OTel's internal warnings (failed exports, dropped spans) as log lines, each at most once a minute. */
function diagToLog(log: Logger): DiagLogger {
  const lastSeen = new Map<string, number>();
  const write =
    (level: 'warn' | 'error') =>
    (message: string, ...args: unknown[]) => {
      const now = Date.now();
      if (now - (lastSeen.get(message) ?? -Infinity) < 60_000) return;
      lastSeen.set(message, now);
      const detail = args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ');
      log[level]({ detail: detail.slice(0, 500) }, `telemetry: ${message}`.slice(0, 200));
    };
  const ignore = () => {};
  return {
    error: write('error'),
    warn: write('warn'),
    info: ignore,
    debug: ignore,
    verbose: ignore,
  };
}

/**
 * Starts the OpenTelemetry SDK for this process: gRPC (and pg) instrumentation,
 * W3C/B3 propagation from OTEL_PROPAGATORS, OTLP gRPC span export when an
 * endpoint is set, and RPC metrics on a Prometheus endpoint. Must run before
 * the application imports @grpc/grpc-js (see register.ts).
 */
export async function startTelemetry(config: TelemetryConfig, log: Logger): Promise<Telemetry> {
  if (!process.env.OTEL_LOG_LEVEL) diag.setLogger(diagToLog(log), DiagLogLevel.WARN);
  const resource = buildResource(config);
  // host.id is read from a file; settle it before the first export or scrape reads it.
  await resource.waitForAsyncAttributes?.();

  const meterProvider = config.metrics
    ? new MeterProvider({
        resource,
        readers: [
          new PrometheusExporter(
            {
              port: config.metrics.port,
              // service_name and service_version on every series, so error
              // ratios split by version (canary v1 against v2) in one query.
              withResourceConstantLabels: /^service\.(name|version)$/,
            },
            (error) => {
              if (error) log.error({ port: config.metrics?.port }, 'metrics endpoint not started');
            },
          ),
        ],
      })
    : undefined;
  // Before the SDK starts, so instrumentations and our RPC metrics find it.
  if (meterProvider) metrics.setGlobalMeterProvider(meterProvider);

  const traces = config.traces;
  const sdk = new NodeSDK({
    resource,
    autoDetectResources: false,
    serviceName: config.serviceName,
    instrumentations: [
      new GrpcInstrumentation({ ignoreGrpcMethods: untracedMethods }),
      new PgInstrumentation({
        requireParentSpan: true,
        ignoreConnectSpans: true,
        enhancedDatabaseReporting: false,
        // The statement text becomes its summary: no literals, no values.
        requestHook(span, { query }) {
          const { summary, operation, table } = summarizeSql(query.text);
          span.updateName(summary);
          span.setAttributes({
            'db.query.text': summary,
            'db.query.summary': summary,
            'db.operation.name': operation,
            ...(table ? { 'db.collection.name': table } : {}),
          });
        },
      }),
    ],
    // Without an endpoint: no tracer provider, so spans are non-recording and
    // nearly free, yet instrumentation still carries the inbound trace
    // context to outbound calls, which keeps mesh (Envoy) traces whole.
    spanProcessors: traces
      ? [
          new BatchSpanProcessor({
            exporter: new OTLPTraceExporter(),
            ...traces.batch,
            ...(meterProvider ? { selfObsMeterProvider: meterProvider } : {}),
          }),
        ]
      : [],
    ...(traces?.samplerRatio === undefined
      ? {}
      : {
          sampler: new ParentBasedSampler({
            root: new TraceIdRatioBasedSampler(traces.samplerRatio),
          }),
        }),
    // Metrics are ours (above); logs stay on stdout: no OTLP metric or log exporters.
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();

  return {
    async shutdown() {
      await Promise.all([sdk.shutdown(), meterProvider?.shutdown()]);
    },
  };
}
