import { describe, expect, it } from 'vitest';
import { ConfigError } from '../process/config.js';
import { readKafkaConfig } from './kafka-config.js';

describe('readKafkaConfig', () => {
  it('is undefined without KAFKA_BROKERS: events stay on the embedded stream', () => {
    expect(readKafkaConfig({})).toBeUndefined();
    expect(readKafkaConfig({ KAFKA_BROKERS: ' ' })).toBeUndefined();
  });

  it('reads the brokers as a list and defaults the topic', () => {
    expect(
      readKafkaConfig({ KAFKA_BROKERS: 'kafka-0.kafka:9092, 10.0.0.7:9092,[::1]:9093' }),
    ).toEqual({
      brokers: ['kafka-0.kafka:9092', '10.0.0.7:9092', '[::1]:9093'],
      topic: 'shop.user.v1.events',
    });
    expect(readKafkaConfig({ KAFKA_BROKERS: 'k:9092', KAFKA_TOPIC: 'user-events.v2' })?.topic).toBe(
      'user-events.v2',
    );
  });

  it.each([
    [{ KAFKA_BROKERS: 'kafka' }, /^KAFKA_BROKERS: expected host:port/],
    [{ KAFKA_BROKERS: 'k:9092,,k2:9092' }, /^KAFKA_BROKERS: expected host:port/],
    [
      { KAFKA_BROKERS: 'k:9092', KAFKA_TOPIC: 'user events' },
      /^KAFKA_TOPIC: expected a topic name/,
    ],
  ])('rejects %j with one line naming the variable', (env, message) => {
    expect(() => readKafkaConfig(env)).toThrow(ConfigError);
    expect(() => readKafkaConfig(env)).toThrow(message);
  });
});
