import { type Attributes, type Span, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api';

/**
 * Asked for once: the API hands out a proxy that finds the SDK's tracer on
 * first use after the preload registers a provider and keeps it, so a call
 * does not look the tracer up by name each time.
 */
const shared = trace.getTracer('grpc-mesh-shop');

/** Tracer for the spans this project makes itself; a no-op without the telemetry preload. */
export function tracer(): Tracer {
  return shared;
}

/**
 * Runs `fn` inside a new active span, so calls it makes become children.
 * A throw marks the span as an error with the error's type only: messages
 * can quote request data.
 */
export async function inSpan<T>(
  name: string,
  attributes: Attributes,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  return tracer().startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: errorType(error) });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** `ServerError`, `SqliteError`, …: what failed, without what it said. */
export function errorType(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

/** Adds attributes to the active span: in a handler, the call's server span. */
export function annotateActiveSpan(attributes: Attributes): void {
  trace.getActiveSpan()?.setAttributes(attributes);
}
