import { Producer } from '@platformatic/kafka';
import type { KafkaRecordParts } from '../shared/events/kafka-binding.js';
import type { KafkaConfig } from '../shared/events/kafka-config.js';

/** The relay's producer: sends a batch to the topic, resolved once acknowledged. */
export interface KafkaProducer {
  send(records: readonly KafkaRecordParts[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * An idempotent producer (acks=all, one request in flight per broker): the
 * broker drops a retried batch it already wrote, so the client's own
 * retries add no duplicates; a crash of the relay may still send a batch
 * twice, which the consumer skips by the records' `sequence`. A few retries
 * only, then the failure goes to the relay, which backs off and logs it: a
 * broker outage never blocks shutdown for long.
 */
export function createKafkaProducer(config: KafkaConfig, clientId: string): KafkaProducer {
  const producer = new Producer({
    clientId,
    bootstrapBrokers: config.brokers,
    idempotent: true,
    retries: 3,
    retryDelay: 250,
    timeout: 5000,
    // Where the broker allows it, the first send creates the topic (a fresh
    // broker on one machine); production declares it (KafkaTopic).
    autocreateTopics: true,
  });
  return {
    async send(records) {
      await producer.send({
        messages: records.map((record) => ({
          topic: config.topic,
          key: record.key,
          value: record.value,
          // The client sends header names as bytes too.
          headers: new Map([...record.headers].map(([name, value]) => [Buffer.from(name), value])),
        })),
      });
    },
    close: () => producer.close(),
  };
}
