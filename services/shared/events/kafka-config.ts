import { ConfigError, type Env, readAddressList, readString } from '../process/config.js';
import { USER_EVENTS_TOPIC } from './kafka-binding.js';

/** Where user events live on Kafka; both services read the same variables. */
export interface KafkaConfig {
  /** KAFKA_BROKERS: bootstrap brokers, host:port, comma-separated. */
  brokers: string[];
  /** KAFKA_TOPIC: the user events topic (default shop.user.v1.events). */
  topic: string;
}

/** The Kafka settings, or undefined when KAFKA_BROKERS is unset (events stay on the embedded stream). */
export function readKafkaConfig(env: Env): KafkaConfig | undefined {
  const brokers = readAddressList(env, 'KAFKA_BROKERS');
  if (!brokers) return undefined;
  const topic = readString(env, 'KAFKA_TOPIC', USER_EVENTS_TOPIC);
  // Kafka's own rule for topic names.
  if (!/^[A-Za-z0-9._-]{1,249}$/.test(topic)) {
    throw new ConfigError(
      `KAFKA_TOPIC: expected a topic name (letters, digits, . _ -), got ${JSON.stringify(topic)}`,
    );
  }
  return { brokers, topic };
}
