import { type KafkaConfig, readKafkaConfig } from '../shared/events/kafka-config.js';
import { type Env, readDuration } from '../shared/process/config.js';
import { readServiceConfig, type ServiceConfig } from '../shared/process/service-config.js';

export const USER_SERVICE_NAME = 'user-service';
export const USER_SERVICE_PORT = 50051;
/** Prometheus port (METRICS_PORT); not 9465, so both services run on one machine. */
export const USER_METRICS_PORT = 9464;

/** Default of USER_EVENTS_POLL_INTERVAL. */
export const DEFAULT_EVENT_POLL_MS = 500;

export interface UserConfig extends ServiceConfig {
  events: {
    /**
     * USER_EVENTS_POLL_INTERVAL: how often a caught-up StreamUserEvents
     * looks for events other replicas stored (default 500ms). This process's
     * own registrations are sent at once, whatever the interval.
     */
    pollIntervalMs: number;
    /**
     * KAFKA_BROKERS (and KAFKA_TOPIC): when set, a relay also publishes the
     * outbox to Kafka. The embedded stream stays served either way.
     */
    kafka: KafkaConfig | undefined;
  };
}

/** The settings every service has (see readServiceConfig), plus how events are polled and relayed. */
export function loadUserConfig(env: Env): UserConfig {
  return {
    ...readServiceConfig(env, USER_SERVICE_NAME, USER_SERVICE_PORT),
    events: {
      pollIntervalMs: readDuration(env, 'USER_EVENTS_POLL_INTERVAL', DEFAULT_EVENT_POLL_MS, {
        minMs: 10,
        maxMs: 60_000,
      }),
      kafka: readKafkaConfig(env),
    },
  };
}
