import type { Env } from '../shared/config.js';
import { readServiceConfig, type ServiceConfig } from '../shared/service-config.js';

export const USER_SERVICE_PORT = 50051;

export type UserConfig = ServiceConfig;

/** UserService reads only the settings every service has (see readServiceConfig). */
export function loadUserConfig(env: Env): UserConfig {
  return readServiceConfig(env, 'user-service', USER_SERVICE_PORT);
}
