import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_CALL_MS, defaultServerLimits } from '../grpc/server-limits.js';
import { ConfigError } from './config.js';
import { readServiceConfig } from './service-config.js';

describe('readServiceConfig server limits', () => {
  it('defaults to the documented limits', () => {
    const { server } = readServiceConfig({}, 'user-service', 50051);
    expect(server.maxCallMs).toBe(DEFAULT_MAX_CALL_MS);
    expect(server.limits).toEqual(defaultServerLimits);
    expect(defaultServerLimits).toMatchObject({
      maxReceiveMessageBytes: 65_536,
      maxConcurrentStreams: 20,
      maxConcurrentCalls: 1000,
      requestReceiveTimeoutMs: 5000,
    });
  });

  it('reads each limit from its variable', () => {
    const { server } = readServiceConfig(
      {
        GRPC_MAX_CALL_DURATION: '10s',
        GRPC_MAX_RECEIVE_MESSAGE_SIZE: '131072',
        GRPC_MAX_CONCURRENT_STREAMS: '50',
        GRPC_MAX_CONCURRENT_CALLS: '200',
        GRPC_REQUEST_RECEIVE_TIMEOUT: '2s',
        GRPC_MAX_CONNECTION_IDLE: '1m',
        GRPC_MAX_CONNECTION_AGE: '10m',
        GRPC_MAX_CONNECTION_AGE_GRACE: '20s',
        GRPC_KEEPALIVE_TIME: '30s',
        GRPC_KEEPALIVE_TIMEOUT: '5s',
        GRPC_MAX_SESSION_MEMORY: '20',
      },
      'user-service',
      50051,
    );
    expect(server.maxCallMs).toBe(10_000);
    expect(server.limits).toEqual({
      maxReceiveMessageBytes: 131_072,
      maxConcurrentStreams: 50,
      maxConcurrentCalls: 200,
      requestReceiveTimeoutMs: 2000,
      maxConnectionIdleMs: 60_000,
      maxConnectionAgeMs: 600_000,
      maxConnectionAgeGraceMs: 20_000,
      keepaliveTimeMs: 30_000,
      keepaliveTimeoutMs: 5000,
      maxSessionMemoryMb: 20,
    });
  });

  it('names the variable of a bad value', () => {
    expect(() =>
      readServiceConfig({ GRPC_MAX_CONCURRENT_STREAMS: '0' }, 'user-service', 50051),
    ).toThrow(
      new ConfigError('GRPC_MAX_CONCURRENT_STREAMS: expected an integer from 1 to 10000, got "0"'),
    );
    expect(() =>
      readServiceConfig({ GRPC_MAX_CALL_DURATION: '30' }, 'user-service', 50051),
    ).toThrow(/GRPC_MAX_CALL_DURATION/);
  });
});
