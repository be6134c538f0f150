import { type Env, readAddress, readDuration } from '../shared/config.js';
import { readServiceConfig, type ServiceConfig } from '../shared/service-config.js';

export const PRODUCT_SERVICE_PORT = 50052;

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
}

/** The settings every service has (see readServiceConfig), plus where UserService is. */
export function loadProductConfig(env: Env): ProductConfig {
  return {
    ...readServiceConfig(env, 'product-service', PRODUCT_SERVICE_PORT),
    userService: {
      address: readAddress(env, 'USER_SERVICE_ADDRESS', 'localhost:50051'),
      timeoutMs: readDuration(env, 'USER_SERVICE_TIMEOUT', 2000, { minMs: 1, maxMs: 60_000 }),
    },
  };
}
