import { join } from 'node:path';
import {
  ConfigError,
  type Env,
  readChoice,
  readDuration,
  readOptionalString,
  readPort,
  readString,
} from './config.js';
import type { GrpcServerConfig } from './grpc-server.js';

/** Where a service keeps its data. */
export type StorageConfig =
  | { kind: 'sqlite' /** Database file. */; path: string }
  | { kind: 'postgres' /** postgres:// connection URL, with credentials. */; url: string };

/** What every service process reads from its environment. */
export interface ServiceConfig {
  server: GrpcServerConfig;
  storage: StorageConfig;
  logLevel: string;
}

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * GRPC_HOST     interface to bind (default 0.0.0.0)
 * GRPC_PORT     port to bind (default: the service's, 50051 or 50052)
 * SHUTDOWN_GRACE  time in-flight calls get to finish on SIGTERM (default 10s)
 * DATABASE_URL  postgres://… to use PostgreSQL; unset for SQLite
 * DATA_DIR      folder for the SQLite file <service>.sqlite (default ./data)
 * LOG_LEVEL     fatal|error|warn|info|debug|trace|silent (default info)
 */
export function readServiceConfig(env: Env, service: string, defaultPort: number): ServiceConfig {
  const databaseUrl = readOptionalString(env, 'DATABASE_URL');
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    // Never echo the value: it usually holds a password.
    throw new ConfigError('DATABASE_URL: expected a postgres:// or postgresql:// URL');
  }
  return {
    server: {
      host: readString(env, 'GRPC_HOST', '0.0.0.0'),
      port: readPort(env, 'GRPC_PORT', defaultPort),
      shutdownGraceMs: readDuration(env, 'SHUTDOWN_GRACE', 10_000, { minMs: 0, maxMs: 600_000 }),
    },
    storage: databaseUrl
      ? { kind: 'postgres', url: databaseUrl }
      : { kind: 'sqlite', path: join(readString(env, 'DATA_DIR', 'data'), `${service}.sqlite`) },
    logLevel: readChoice(env, 'LOG_LEVEL', 'info', logLevels),
  };
}
