/** A caller's W3C trace context: the span of whoever calls ProductService. */
export function callerContext(sampled = true) {
  const hex = (bytes: number) =>
    Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) =>
      b.toString(16).padStart(2, '0'),
    ).join('');
  const traceId = hex(16);
  const spanId = hex(8);
  return {
    traceId,
    spanId,
    traceparent: `00-${traceId}-${spanId}-${sampled ? '01' : '00'}`,
  };
}
