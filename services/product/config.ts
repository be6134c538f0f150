import { type Env, readAddress, readChoice, readDuration } from '../shared/process/config.js';
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
     * model (default grpc). `grpc`: follow UserService's StreamUserEvents at
     * USER_SERVICE_ADDRESS, nothing else to run. `none`: no read model, every
     * read asks UserService for its owners (the behaviour before events).
     * Kafka comes in a later slice.
     */
    transport: 'grpc' | 'none';
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
    userEvents: {
      transport: readChoice(env, 'USER_EVENTS_TRANSPORT', 'grpc', ['grpc', 'none'] as const),
    },
  };
}
