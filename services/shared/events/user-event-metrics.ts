import { type Counter, type Histogram, metrics } from '@opentelemetry/api';
import { meterName } from '../telemetry/rpc-metrics.js';

/** Seconds from a registration to its effect: 5 ms to 1 min. */
const delayBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * The user events' metrics, on both sides and both transports (Prometheus
 * names in brackets; `transport` is `grpc` or `kafka`):
 * - `shop.user_events.published` [`shop_user_events_published_total`]: events
 *   the relay saw acknowledged by the broker, by `messaging.destination.name`.
 * - `shop.user_events.consumed` [`shop_user_events_consumed_total`]: events
 *   the consumer received, by `outcome`: `applied`, or `skipped` (delivered
 *   again and recognised by its position: never applied twice).
 * - `shop.user_events.apply_failures` [`shop_user_events_apply_failures_total`]:
 *   batches whose apply failed (the consumer retries them), and records it
 *   could not read (`outcome` `malformed`, skipped).
 * - `shop.user_events.delay` [`shop_user_events_delay_bucket`]: for each
 *   applied event, seconds from the event's time to its apply commit: the
 *   consumer's lag in seconds, and the propagation latency.
 * - `shop.user_events.lag` [`shop_user_events_lag`]: events on the topic
 *   the consumer group has not committed yet (Kafka only: the embedded
 *   stream has no broker to ask).
 *
 * Instruments are created on first use, after the preload (if any) has set
 * the meter provider.
 */
export interface UserEventMetrics {
  published(destination: string, count: number): void;
  consumed(applied: number, skipped: number): void;
  failed(outcome: 'apply' | 'malformed'): void;
  delay(seconds: number): void;
  /** Reports `read()` as the lag gauge (Kafka's consumer keeps it current). */
  observeLag(read: () => number | undefined): void;
}

export function createUserEventMetrics(transport: string): UserEventMetrics {
  const meter = () => metrics.getMeter(meterName);
  let published: Counter | undefined;
  let consumed: Counter | undefined;
  let failures: Counter | undefined;
  let delay: Histogram | undefined;
  const applied = { transport, outcome: 'applied' };
  const skipped = { transport, outcome: 'skipped' };
  return {
    published(destination, count) {
      published ??= meter().createCounter('shop.user_events.published', {
        description: 'User events the broker acknowledged.',
      });
      published.add(count, { transport, 'messaging.destination.name': destination });
    },
    consumed(appliedCount, skippedCount) {
      consumed ??= meter().createCounter('shop.user_events.consumed', {
        description:
          'User events received, by whether they were applied or skipped as already applied.',
      });
      if (appliedCount > 0) consumed.add(appliedCount, applied);
      if (skippedCount > 0) consumed.add(skippedCount, skipped);
    },
    failed(outcome) {
      failures ??= meter().createCounter('shop.user_events.apply_failures', {
        description: 'Event batches that failed to apply, and records that could not be read.',
      });
      failures.add(1, { transport, outcome });
    },
    delay(seconds) {
      delay ??= meter().createHistogram('shop.user_events.delay', {
        description: "Seconds from a user event's time to its apply commit.",
        unit: 's',
        advice: { explicitBucketBoundaries: delayBuckets },
      });
      delay.record(Math.max(0, seconds), { transport });
    },
    observeLag(read) {
      meter()
        .createObservableGauge('shop.user_events.lag', {
          description: 'User events on the topic not yet committed by the consumer group.',
        })
        .addCallback((result) => {
          const lag = read();
          if (lag !== undefined) result.observe(lag, { transport });
        });
    },
  };
}
