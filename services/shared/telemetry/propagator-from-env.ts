import { diag, type TextMapPropagator } from '@opentelemetry/api';
import {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import { B3InjectEncoding, B3Propagator } from '@opentelemetry/propagator-b3';

const factories: Record<string, () => TextMapPropagator> = {
  tracecontext: () => new W3CTraceContextPropagator(),
  baggage: () => new W3CBaggagePropagator(),
  b3: () => new B3Propagator(),
  b3multi: () => new B3Propagator({ injectEncoding: B3InjectEncoding.MULTI_HEADER }),
};

/**
 * The propagator OTEL_PROPAGATORS names, as the spec (and the NodeSDK this
 * replaces) reads it: a comma-separated list, default `tracecontext,baggage`,
 * `none` for none at all (null: leave the API's no-op in place). Of the
 * spec's names, `jaeger` (deprecated) is not offered; an unknown name is
 * warned about and skipped.
 */
export function propagatorFromEnv(value: string | undefined): TextMapPropagator | null {
  const names = [
    ...new Set(
      (value ?? '')
        .split(',')
        .map((name) => name.trim())
        .filter(Boolean),
    ),
  ];
  if (names.length === 0) names.push('tracecontext', 'baggage');
  if (names.includes('none')) return null;
  const propagators = names.flatMap((name) => {
    const make = factories[name];
    if (!make) diag.warn(`OTEL_PROPAGATORS: unknown propagator "${name}", skipped`);
    return make ? [make()] : [];
  });
  return new CompositePropagator({ propagators });
}
