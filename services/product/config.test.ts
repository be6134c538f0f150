import { describe, expect, it } from 'vitest';
import { loadProductConfig } from './config.js';

describe("ProductService's USER_EVENTS_TRANSPORT", () => {
  const transportOf = (env: Record<string, string>) => loadProductConfig(env).userEvents;

  it('follows the embedded stream by default, Kafka when KAFKA_BROKERS is set', () => {
    expect(transportOf({})).toEqual({ transport: 'grpc', kafka: undefined });
    expect(transportOf({ KAFKA_BROKERS: 'k:9092' })).toEqual({
      transport: 'kafka',
      kafka: { brokers: ['k:9092'], topic: 'shop.user.v1.events' },
    });
  });

  it('lets the variable override the default either way', () => {
    expect(transportOf({ KAFKA_BROKERS: 'k:9092', USER_EVENTS_TRANSPORT: 'grpc' })).toEqual({
      transport: 'grpc',
      kafka: undefined,
    });
    expect(transportOf({ USER_EVENTS_TRANSPORT: 'none' }).transport).toBe('none');
  });

  it('refuses kafka without brokers rather than running without events', () => {
    expect(() => transportOf({ USER_EVENTS_TRANSPORT: 'kafka' })).toThrow(
      /^USER_EVENTS_TRANSPORT: kafka needs KAFKA_BROKERS/,
    );
  });
});
