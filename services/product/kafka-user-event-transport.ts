import { Consumer, type Message, type MessagesStream } from '@platformatic/kafka';
import { summarizeError } from '../shared/errors/describe-error.js';
import { fromKafkaRecord, MalformedRecordError } from '../shared/events/kafka-binding.js';
import type { KafkaConfig } from '../shared/events/kafka-config.js';
import { userEventOf } from '../shared/events/user-event-envelope.js';
import {
  createUserEventMetrics,
  type UserEventMetrics,
} from '../shared/events/user-event-metrics.js';
import { type BackoffOptions, createBackoff } from '../shared/process/backoff.js';
import type { Logger } from '../shared/process/logger.js';
import { recurringWarning } from '../shared/process/recurring-warning.js';
import { userEventsUnavailableIntervalMs } from './grpc-user-event-transport.js';
import type { DeliveredEvent, UserEventTransport } from './user-event-transport.js';

/** ProductService's consumer group: its replicas share the topic's partitions. */
export const KAFKA_CONSUMER_GROUP = 'product-service.owners';

/** The read model's stream for one partition: positions are per partition. */
export const kafkaStreamOf = (topic: string, partition: number) => `kafka:${topic}/${partition}`;

/** The most events applied in one transaction. */
const MAX_BATCH = 100;

/** How often the consumer group's lag is read for `shop.user_events.lag`. */
const LAG_INTERVAL_MS = 5000;

export interface KafkaUserEventTransportOptions {
  kafka: KafkaConfig;
  clientId: string;
  log: Logger;
  metrics?: UserEventMetrics;
  backoff?: BackoffOptions;
}

type KafkaMessage = Message<Buffer, Buffer, Buffer, Buffer>;

/**
 * The Kafka transport: consumes the topic in the group
 * `product-service.owners`, from the group's committed offsets (the
 * earliest record for a new group). Each record's position is its
 * CloudEvents `sequence`, the outbox position, per partition: the relay
 * publishes in position order, so within a partition the first copy of
 * every event comes in increasing order, and a copy sent again (the relay
 * restarted before it marked a batch) or delivered again (this consumer
 * restarted before it committed) is at or below the stored position and
 * skipped. Offsets are committed only after the batch's apply committed.
 */
export function createKafkaUserEventTransport(
  options: KafkaUserEventTransportOptions,
): UserEventTransport & { close(): Promise<void> } {
  const { kafka, log } = options;
  const metrics = options.metrics ?? createUserEventMetrics('kafka');
  const unavailable = recurringWarning('user events unavailable', userEventsUnavailableIntervalMs);
  const malformed = recurringWarning('user event record skipped', userEventsUnavailableIntervalMs);
  const consumer = new Consumer({
    clientId: options.clientId,
    groupId: KAFKA_CONSUMER_GROUP,
    bootstrapBrokers: kafka.brokers,
    // A killed replica's partitions move to the others after this long.
    sessionTimeout: 10_000,
    heartbeatInterval: 1000,
    // Fetches wait this long for new records: the propagation latency when idle.
    maxWaitTime: 100,
    timeout: 5000,
    // ProductService may start before the first event was ever published: a
    // broker that allows it creates the topic (with its default partitions);
    // production declares it (k8s/components/strimzi-kafka), and with a broker
    // that forbids auto-creation the consumer retries until it exists.
    autocreateTopics: true,
  });
  let lag: number | undefined;
  consumer.on('consumer:lag', (offsets) => {
    let total = 0n;
    for (const partitions of offsets.values()) {
      for (const behind of partitions) if (behind > 0n) total += behind;
    }
    lag = Number(total);
  });
  metrics.observeLag(() => lag);

  const deliveredOf = (message: KafkaMessage): DeliveredEvent | undefined => {
    try {
      const { event, sequence } = fromKafkaRecord(message);
      return {
        stream: kafkaStreamOf(message.topic, message.partition),
        position: sequence,
        event: userEventOf(event),
      };
    } catch (error) {
      if (!(error instanceof MalformedRecordError)) throw error;
      // Not an event this code can read: stalling the partition on it would
      // stop every later event; it is counted and logged, never applied.
      metrics.failed('malformed');
      malformed.record(log, {
        topic: message.topic,
        partition: message.partition,
        offset: String(message.offset),
        reason: error.message,
      });
      return undefined;
    }
  };

  async function consume(
    stream: MessagesStream<Buffer, Buffer, Buffer, Buffer>,
    sink: Parameters<UserEventTransport['follow']>[0],
  ) {
    let batch: DeliveredEvent[] = [];
    // The last record of each partition in the batch: committing it commits the partition up to it.
    const last = new Map<number, KafkaMessage>();
    for await (const message of stream as AsyncIterable<KafkaMessage>) {
      const delivered = deliveredOf(message);
      if (delivered) batch.push(delivered);
      last.set(message.partition, message);
      // Everything already received goes in one transaction.
      if (stream.readableLength > 0 && batch.length < MAX_BATCH) continue;
      if (batch.length > 0) await sink.apply(batch);
      for (const record of last.values()) await record.commit();
      batch = [];
      last.clear();
    }
  }

  return {
    name: 'kafka',
    async follow(sink, signal) {
      const backoff = createBackoff(options.backoff);
      let failures = 0;
      while (!signal.aborted) {
        let stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined;
        const close = () => void stream?.close().catch(() => {});
        signal.addEventListener('abort', close, { once: true });
        try {
          stream = await consumer.consume({
            topics: [kafka.topic],
            autocommit: false,
            mode: 'committed',
            fallbackMode: 'earliest',
          });
          if (signal.aborted) break;
          log.info(
            { transport: 'kafka', topic: kafka.topic, group: KAFKA_CONSUMER_GROUP, failures },
            'following user events',
          );
          failures = 0;
          backoff.reset();
          consumer.startLagMonitoring({ topics: [kafka.topic] }, LAG_INTERVAL_MS);
          await consume(stream, sink);
        } catch (error) {
          if (signal.aborted) break;
          failures++;
          unavailable.record(log, {
            transport: 'kafka',
            err: summarizeError(error),
            retry_in_ms: backoff.delayMs,
          });
        } finally {
          signal.removeEventListener('abort', close);
          consumer.stopLagMonitoring();
          await stream?.close().catch(() => {});
        }
        if (!signal.aborted) await backoff.wait(signal);
      }
    },
    // Forced: leaves the group at once rather than after the session timeout.
    close: () =>
      new Promise<void>((resolve, reject) =>
        consumer.close(true, (error) => (error ? reject(error) : resolve())),
      ),
  };
}
