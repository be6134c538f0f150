import { join } from 'node:path';

import type { GrpcServerConfig } from '../grpc/grpc-server.js';
import {
  DEFAULT_MAX_CALL_MS,
  defaultServerLimits,
  type ServerLimits,
} from '../grpc/server-limits.js';
import {
  ConfigError,
  type Env,
  readChoice,
  readDuration,
  readInteger,
  readOptionalString,
  readPort,
  readString,
} from './config.js';

/** How a process uses its PostgreSQL connections; defaults suit a small pod. */
export interface PostgresPoolConfig {
  /** DATABASE_POOL_MAX: most connections one process holds open (default 5). */
  max: number;
  /** DATABASE_CONNECT_TIMEOUT: longest wait for a new connection (default 5s). */
  connectTimeoutMs: number;
  /** DATABASE_STATEMENT_TIMEOUT: the server cancels a statement running longer (default 5s). */
  statementTimeoutMs: number;
  /** DATABASE_IDLE_TIMEOUT: an unused connection is closed after this (default 30s). */
  idleTimeoutMs: number;
}

export const defaultPostgresPool: Readonly<PostgresPoolConfig> = {
  max: 5,
  connectTimeoutMs: 5_000,
  statementTimeoutMs: 5_000,
  idleTimeoutMs: 30_000,
};

/** Where a service keeps its data. */
export type StorageConfig =
  | { kind: 'sqlite' /** Database file. */; path: string }
  | {
      kind: 'postgres';
      /** postgres:// connection URL, with credentials. */
      url: string;
      /** Schema for the service's tables and migration ledger (DATABASE_SCHEMA, default user_service / product_service). */
      schema?: string;
      /** Default: defaultPostgresPool. */
      pool?: PostgresPoolConfig;
      /** Shown in pg_stat_activity, e.g. `user-service`. */
      applicationName?: string;
    };

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
 * GRPC_MAX_CALL_DURATION  the longest a call may run, receiving the request included:
 *               the deadline of a call that sends none, and the clamp on a later one (default 30s)
 * GRPC_MAX_RECEIVE_MESSAGE_SIZE, GRPC_MAX_CONCURRENT_STREAMS, GRPC_MAX_CONCURRENT_CALLS,
 * GRPC_REQUEST_RECEIVE_TIMEOUT, GRPC_MAX_CONNECTION_IDLE,
 * GRPC_MAX_CONNECTION_AGE, GRPC_MAX_CONNECTION_AGE_GRACE, GRPC_KEEPALIVE_TIME,
 * GRPC_KEEPALIVE_TIMEOUT, GRPC_MAX_SESSION_MEMORY  connection and message limits
 *               (see ServerLimits for each one's meaning and default)
 * DATABASE_URL  postgres://… to use PostgreSQL; unset for SQLite
 * DATABASE_SCHEMA  PostgreSQL schema of this service (default: the service name with
 *               '_' for '-', e.g. user_service), so services sharing one database stay apart
 * DATABASE_POOL_MAX, DATABASE_CONNECT_TIMEOUT, DATABASE_STATEMENT_TIMEOUT,
 * DATABASE_IDLE_TIMEOUT  PostgreSQL pool settings (see PostgresPoolConfig)
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
      maxCallMs: readDuration(env, 'GRPC_MAX_CALL_DURATION', DEFAULT_MAX_CALL_MS, {
        minMs: 100,
        maxMs: 3_600_000,
      }),
      limits: readServerLimits(env),
    },
    storage: databaseUrl
      ? readPostgresConfig(env, service, databaseUrl)
      : { kind: 'sqlite', path: join(readString(env, 'DATA_DIR', 'data'), `${service}.sqlite`) },
    logLevel: readChoice(env, 'LOG_LEVEL', 'info', logLevels),
  };
}

function readServerLimits(env: Env): ServerLimits {
  const d = defaultServerLimits;
  const connection = { minMs: 1000, maxMs: 24 * 3_600_000 };
  return {
    maxReceiveMessageBytes: readInteger(
      env,
      'GRPC_MAX_RECEIVE_MESSAGE_SIZE',
      d.maxReceiveMessageBytes,
      {
        min: 1024,
        max: 64 * 1024 * 1024,
      },
    ),
    maxConcurrentStreams: readInteger(env, 'GRPC_MAX_CONCURRENT_STREAMS', d.maxConcurrentStreams, {
      min: 1,
      max: 10_000,
    }),
    maxConcurrentCalls: readInteger(env, 'GRPC_MAX_CONCURRENT_CALLS', d.maxConcurrentCalls, {
      min: 1,
      max: 100_000,
    }),
    requestReceiveTimeoutMs: readDuration(
      env,
      'GRPC_REQUEST_RECEIVE_TIMEOUT',
      d.requestReceiveTimeoutMs,
      { minMs: 100, maxMs: 3_600_000 },
    ),
    maxConnectionIdleMs: readDuration(
      env,
      'GRPC_MAX_CONNECTION_IDLE',
      d.maxConnectionIdleMs,
      connection,
    ),
    maxConnectionAgeMs: readDuration(
      env,
      'GRPC_MAX_CONNECTION_AGE',
      d.maxConnectionAgeMs,
      connection,
    ),
    maxConnectionAgeGraceMs: readDuration(
      env,
      'GRPC_MAX_CONNECTION_AGE_GRACE',
      d.maxConnectionAgeGraceMs,
      { minMs: 0, maxMs: 3_600_000 },
    ),
    keepaliveTimeMs: readDuration(env, 'GRPC_KEEPALIVE_TIME', d.keepaliveTimeMs, connection),
    keepaliveTimeoutMs: readDuration(env, 'GRPC_KEEPALIVE_TIMEOUT', d.keepaliveTimeoutMs, {
      minMs: 100,
      maxMs: 600_000,
    }),
    maxSessionMemoryMb: readInteger(env, 'GRPC_MAX_SESSION_MEMORY', d.maxSessionMemoryMb, {
      min: 1,
      max: 1024,
    }),
  };
}

function readPostgresConfig(env: Env, service: string, url: string): StorageConfig {
  const schema = readString(env, 'DATABASE_SCHEMA', service.replaceAll('-', '_'));
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new ConfigError(
      `DATABASE_SCHEMA: expected lower-case letters, digits and '_' (at most 63), got ${JSON.stringify(schema)}`,
    );
  }
  const d = defaultPostgresPool;
  const timeout = { minMs: 1, maxMs: 3_600_000 };
  return {
    kind: 'postgres',
    url,
    schema,
    pool: {
      max: readInteger(env, 'DATABASE_POOL_MAX', d.max, { min: 1, max: 1000 }),
      connectTimeoutMs: readDuration(env, 'DATABASE_CONNECT_TIMEOUT', d.connectTimeoutMs, timeout),
      statementTimeoutMs: readDuration(
        env,
        'DATABASE_STATEMENT_TIMEOUT',
        d.statementTimeoutMs,
        timeout,
      ),
      idleTimeoutMs: readDuration(env, 'DATABASE_IDLE_TIMEOUT', d.idleTimeoutMs, timeout),
    },
    applicationName: service,
  };
}
