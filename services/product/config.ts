import { type KafkaConfig, readKafkaConfig } from '../shared/events/kafka-config.js';
import {
  ConfigError,
  type Env,
  readAddress,
  readChoice,
  readDuration,
} from '../shared/process/config.js';
import { readServiceConfig, type ServiceConfig } from '../shared/process/service-config.js';

export const PRODUCT_SERVICE_NAME = 'product-service';
export const PRODUCT_SERVICE_PORT = 50052;
/** Prometheus port (METRICS_PORT); not 9464, so both services run on one machine. */
export const PRODUCT_METRICS_PORT = 9465;

export interface ProductConfig extends ServiceConfig {
  userService: {
    /** USER_SERVICE_ADDRESS: host:port of UserService (default localhost:50051). */
    address: string;
    /**
     * USER_SERVICE_TIMEOUT: deadline for a UserService call when the inbound
     * call's deadline is later or unset (default 2s). Reads degrade after it.
     */
    timeoutMs: number;
  };
  userEvents: {
    /**
     * USER_EVENTS_TRANSPORT: how UserService's events reach the owner read
     * model (default `kafka` when KAFKA_BROKERS is set, else `grpc`).
     * `grpc`: follow UserService's StreamUserEvents at USER_SERVICE_ADDRESS,
     * nothing else to run. `kafka`: consume the topic in the consumer group
     * `product-service.owners`. `none`: no read model, every read asks
     * UserService for its owners (the behaviour before events).
     */
    transport: 'grpc' | 'kafka' | 'none';
    /** KAFKA_BROKERS and KAFKA_TOPIC; set when the transport is `kafka`. */
    kafka: KafkaConfig | undefined;
  };
}

/** The settings every service has (see readServiceConfig), plus where UserService is and how its events arrive. */
export function loadProductConfig(env: Env): ProductConfig {
  return {
    ...readServiceConfig(env, PRODUCT_SERVICE_NAME, PRODUCT_SERVICE_PORT),
    userService: {
      address: readAddress(env, 'USER_SERVICE_ADDRESS', 'localhost:50051'),
      timeoutMs: readDuration(env, 'USER_SERVICE_TIMEOUT', 2000, { minMs: 1, maxMs: 60_000 }),
    },
    userEvents: readUserEvents(env),
  };
}

function readUserEvents(env: Env): ProductConfig['userEvents'] {
  const kafka = readKafkaConfig(env);
  const transport = readChoice(env, 'USER_EVENTS_TRANSPORT', kafka ? 'kafka' : 'grpc', [
    'grpc',
    'kafka',
    'none',
  ] as const);
  if (transport === 'kafka' && !kafka) {
    throw new ConfigError('USER_EVENTS_TRANSPORT: kafka needs KAFKA_BROKERS (host:port, …)');
  }
  return { transport, kafka: transport === 'kafka' ? kafka : undefined };
}
