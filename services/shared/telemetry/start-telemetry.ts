import { context, DiagLogLevel, diag, metrics, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import type { Logger } from '../process/logger.js';
import { diagToLog } from './diag-to-log.js';
import { createGrpcInstrumentation } from './grpc-instrumentation.js';
import { createPgInstrumentation } from './pg-instrumentation.js';
import type { Telemetry } from './process-telemetry.js';
import { propagatorFromEnv } from './propagator-from-env.js';
import { samplerFromEnv } from './sampler-from-env.js';
import type { TelemetryConfig } from './telemetry-config.js';
import { telemetryResource } from './telemetry-resource.js';

export interface StartOptions {
  /** Instrument pg (the service uses PostgreSQL). */
  postgres: boolean;
}

/**
 * Starts OpenTelemetry for this process: gRPC (and pg) instrumentation,
 * W3C/B3 propagation from OTEL_PROPAGATORS, OTLP gRPC span export when an
 * endpoint is set, and RPC metrics on a Prometheus endpoint. Must run before
 * the application loads @grpc/grpc-js (see register.ts).
 *
 * The providers are set up here directly rather than through NodeSDK
 * (@opentelemetry/sdk-node), which statically imports every exporter it
 * could build from the environment (OTLP over HTTP, protobuf and gRPC for
 * traces, metrics and logs, Zipkin, the logs SDK); and the exporters we use
 * load only when configured. Both are start-up time (docs/performance.md).
 * What NodeSDK did is done here the same way: instrumentations first, then
 * the AsyncLocalStorage context manager, the propagator, and a tracer
 * provider only when spans are exported. (NodeSDK's OTEL_SPAN_*_LIMIT
 * variables are not read: the SDK's default limits apply.)
 */
export async function startTelemetry(
  config: TelemetryConfig,
  log: Logger,
  options: StartOptions,
): Promise<Telemetry> {
  if (!process.env.OTEL_LOG_LEVEL) diag.setLogger(diagToLog(log), DiagLogLevel.WARN);
  const traces = config.traces;
  const [prometheus, otlp, pg] = await Promise.all([
    config.metrics ? import('@opentelemetry/exporter-prometheus') : undefined,
    traces ? import('@opentelemetry/exporter-trace-otlp-grpc') : undefined,
    options.postgres ? createPgInstrumentation() : undefined,
  ]);
  const resource = telemetryResource(config);
  // host.id is read from a file; settle it before the first export or scrape reads it.
  await resource.waitForAsyncAttributes?.();

  const meterProvider =
    config.metrics && prometheus
      ? new MeterProvider({
          resource,
          readers: [
            new prometheus.PrometheusExporter(
              {
                port: config.metrics.port,
                // service_name and service_version on every series, so error
                // ratios split by version (canary v1 against v2) in one query.
                withResourceConstantLabels: /^service\.(name|version)$/,
              },
              (error) => {
                if (error)
                  log.error({ port: config.metrics?.port }, 'metrics endpoint not started');
              },
            ),
          ],
        })
      : undefined;
  // Before the instrumentations, so they and our RPC metrics find it.
  if (meterProvider) metrics.setGlobalMeterProvider(meterProvider);

  registerInstrumentations({
    instrumentations: [createGrpcInstrumentation(), ...(pg ? [pg] : [])],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const propagator = propagatorFromEnv(process.env.OTEL_PROPAGATORS);
  if (propagator) propagation.setGlobalPropagator(propagator);

  // Without an endpoint: no tracer provider, so spans are non-recording and
  // nearly free, yet instrumentation still carries the inbound trace
  // context to outbound calls, which keeps mesh (Envoy) traces whole.
  const tracerProvider =
    traces && otlp
      ? new TracerProvider({
          resource,
          sampler:
            traces.samplerRatio === undefined
              ? samplerFromEnv(
                  process.env.OTEL_TRACES_SAMPLER ?? '',
                  process.env.OTEL_TRACES_SAMPLER_ARG,
                )
              : new ParentBasedSampler({
                  root: new TraceIdRatioBasedSampler(traces.samplerRatio),
                }),
          spanProcessors: [
            new BatchSpanProcessor({
              exporter: new otlp.OTLPTraceExporter(),
              ...traces.batch,
              ...(meterProvider ? { selfObsMeterProvider: meterProvider } : {}),
            }),
          ],
        })
      : undefined;
  if (tracerProvider) trace.setGlobalTracerProvider(tracerProvider);

  return {
    async shutdown() {
      await Promise.all([tracerProvider?.shutdown(), meterProvider?.shutdown()]);
    },
  };
}
