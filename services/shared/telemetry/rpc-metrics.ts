import { InterceptingCall, type Interceptor, status } from '@grpc/grpc-js';
import { type Attributes, type Histogram, metrics } from '@opentelemetry/api';

/** Meter name for everything this project records itself. */
export const meterName = 'grpc-mesh-shop';

/** Semantic-convention boundaries for durations in seconds (5 ms to 10 s). */
const durationBuckets = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/**
 * RPC durations as OpenTelemetry's stable RPC semantic conventions name them:
 * `rpc.server.call.duration` and `rpc.client.call.duration`, in seconds, with
 * `rpc.system.name`, `rpc.method` (`shop.user.v1.UserService/GetUser`) and
 * `rpc.status_code` (`OK`, `NOT_FOUND`, …). A histogram's count is the call
 * count, so error ratios by method come from one series:
 * `rpc_server_call_duration_count` in Prometheus (the exporter adds no unit suffix).
 *
 * Through the global meter provider: a no-op until the telemetry preload
 * registers one, so servers built in tests cost nothing.
 */
export interface RpcMetrics {
  /** `method` is the grpc-js path, `/shop.user.v1.UserService/GetUser`. */
  record(method: string, code: status, seconds: number): void;
}

function rpcHistogram(name: string, description: string): RpcMetrics {
  let histogram: Histogram | undefined;
  // One attribute set per method and code, made on first use: a call records
  // without building one. Our methods and codes are a small set; paths
  // callers make up (answered UNIMPLEMENTED) are not kept past the cap.
  const attributeSets = new Map<string, Attributes>();
  const attributesOf = (method: string, code: status) => {
    const key = `${code}${method}`;
    let attributes = attributeSets.get(key);
    if (!attributes) {
      attributes = {
        'rpc.system.name': 'grpc',
        'rpc.method': method.startsWith('/') ? method.slice(1) : method,
        'rpc.status_code': status[code] ?? String(code),
      };
      if (attributeSets.size < 1000) attributeSets.set(key, attributes);
    }
    return attributes;
  };
  return {
    record(method, code, seconds) {
      // Created on first use, after the preload (if any) has set the provider.
      histogram ??= metrics.getMeter(meterName).createHistogram(name, {
        description,
        unit: 's',
        advice: { explicitBucketBoundaries: durationBuckets },
      });
      histogram.record(seconds, attributesOf(method, code));
    },
  };
}

export function createServerRpcMetrics(): RpcMetrics {
  return rpcHistogram('rpc.server.call.duration', 'Duration of incoming RPCs.');
}

export function createClientRpcMetrics(): RpcMetrics {
  return rpcHistogram('rpc.client.call.duration', 'Duration of outgoing RPCs.');
}

/**
 * A grpc-js client interceptor that records `rpc.client.call.duration` for
 * each call with the status it ended with, including deadlines and
 * cancellations that never reach the server.
 */
export function clientMetricsInterceptor(recorder: RpcMetrics): Interceptor {
  return (options, nextCall) => {
    const started = performance.now();
    return new InterceptingCall(nextCall(options), {
      start(metadata, _listener, next) {
        // A partial listener: grpc-js passes every other event through.
        next(metadata, {
          onReceiveStatus(callStatus, nextStatus) {
            recorder.record(
              options.method_definition.path,
              callStatus.code,
              (performance.now() - started) / 1000,
            );
            nextStatus(callStatus);
          },
        });
      },
    });
  };
}
