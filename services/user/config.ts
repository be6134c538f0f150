import type { Env } from '../shared/process/config.js';
import { readServiceConfig, type ServiceConfig } from '../shared/process/service-config.js';

export const USER_SERVICE_NAME = 'user-service';
export const USER_SERVICE_PORT = 50051;
/** Prometheus port (METRICS_PORT); not 9465, so both services run on one machine. */
export const USER_METRICS_PORT = 9464;

export type UserConfig = ServiceConfig;

/** UserService reads only the settings every service has (see readServiceConfig). */
export function loadUserConfig(env: Env): UserConfig {
  return readServiceConfig(env, USER_SERVICE_NAME, USER_SERVICE_PORT);
}
