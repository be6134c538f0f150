/** Spans a service's batch processor has finished with, by outcome. */
export interface SpanCounts {
  exported: number;
  /** Dropped because the queue was full. */
  dropped: number;
}

/**
 * Reads otel_sdk_processor_span_processed_total from a service's Prometheus
 * endpoint: the SDK's own count, with error_type="queue_full" on drops.
 * Zero for both when the service records no spans.
 */
export async function readSpanCounts(metricsUrl: string): Promise<SpanCounts> {
  const text = await (await fetch(metricsUrl)).text();
  const counts: SpanCounts = { exported: 0, dropped: 0 };
  for (const line of text.split('\n')) {
    if (!line.startsWith('otel_sdk_processor_span_processed_total')) continue;
    const value = Number(line.split(' ').pop());
    if (line.includes('error_type="queue_full"')) counts.dropped += value;
    else if (!line.includes('error_type=')) counts.exported += value;
  }
  return counts;
}
