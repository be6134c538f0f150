import {
  createTraceState,
  isSpanContextValid,
  type SpanContext,
  TraceFlags,
  trace,
} from '@opentelemetry/api';

/** W3C Trace Context headers, as an event carries them (empty strings when untraced). */
export interface TraceHeaders {
  traceparent: string;
  tracestate: string;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/**
 * The active span's context as W3C headers, for an event to carry to its
 * consumers. Formatted here rather than by the configured propagator: that
 * one may speak B3 to the mesh, while CloudEvents' distributed tracing
 * extension is W3C Trace Context whatever the wire protocol of the call.
 */
export function activeTraceHeaders(): TraceHeaders {
  const context = trace.getActiveSpan()?.spanContext();
  if (!context || !isSpanContextValid(context)) return { traceparent: '', tracestate: '' };
  const flags = (context.traceFlags & 0xff).toString(16).padStart(2, '0');
  return {
    traceparent: `00-${context.traceId}-${context.spanId}-${flags}`,
    tracestate: context.traceState?.serialize() ?? '',
  };
}

/** The producer's span context from an event's headers, for a span link; undefined when absent or malformed. */
export function spanContextOf(headers: TraceHeaders): SpanContext | undefined {
  const match = TRACEPARENT.exec(headers.traceparent);
  if (!match) return undefined;
  const context: SpanContext = {
    traceId: match[1] ?? '',
    spanId: match[2] ?? '',
    traceFlags: Number.parseInt(match[3] ?? '0', 16) & TraceFlags.SAMPLED,
    isRemote: true,
    ...(headers.tracestate ? { traceState: createTraceState(headers.tracestate) } : {}),
  };
  return isSpanContextValid(context) ? context : undefined;
}
