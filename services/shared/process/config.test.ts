import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  readAddress,
  readChoice,
  readDuration,
  readInteger,
  readPort,
} from './config.js';

describe('config readers', () => {
  it('fall back to the default when a variable is unset or blank', () => {
    expect(readPort({}, 'GRPC_PORT', 50051)).toBe(50051);
    expect(readPort({ GRPC_PORT: '  ' }, 'GRPC_PORT', 50051)).toBe(50051);
    expect(readDuration({}, 'SHUTDOWN_GRACE', 10_000)).toBe(10_000);
  });

  it('parse valid values', () => {
    expect(readPort({ GRPC_PORT: '0' }, 'GRPC_PORT', 1)).toBe(0);
    expect(readInteger({ N: '-3' }, 'N', 0, { min: -5, max: 5 })).toBe(-3);
    expect(readDuration({ D: '250ms' }, 'D', 0)).toBe(250);
    expect(readDuration({ D: '1.5s' }, 'D', 0)).toBe(1500);
    expect(readDuration({ D: '2m' }, 'D', 0)).toBe(120_000);
    expect(readChoice({ L: 'debug' }, 'L', 'info', ['info', 'debug'])).toBe('debug');
    expect(readAddress({ A: 'user-service.shop.svc.cluster.local:50051' }, 'A', 'x:1')).toBe(
      'user-service.shop.svc.cluster.local:50051',
    );
    expect(readAddress({ A: '[::1]:50051' }, 'A', 'x:1')).toBe('[::1]:50051');
  });

  it.each([
    ['GRPC_PORT', () => readPort({ GRPC_PORT: 'http' }, 'GRPC_PORT', 1)],
    ['GRPC_PORT', () => readPort({ GRPC_PORT: '70000' }, 'GRPC_PORT', 1)],
    ['GRPC_PORT', () => readPort({ GRPC_PORT: '1e3' }, 'GRPC_PORT', 1)],
    ['SHUTDOWN_GRACE', () => readDuration({ SHUTDOWN_GRACE: '30' }, 'SHUTDOWN_GRACE', 1)],
    ['SHUTDOWN_GRACE', () => readDuration({ SHUTDOWN_GRACE: '-1s' }, 'SHUTDOWN_GRACE', 1)],
    ['LOG_LEVEL', () => readChoice({ LOG_LEVEL: 'loud' }, 'LOG_LEVEL', 'info', ['info'])],
    [
      'USER_SERVICE_ADDRESS',
      () => readAddress({ USER_SERVICE_ADDRESS: 'nohost' }, 'USER_SERVICE_ADDRESS', 'x:1'),
    ],
  ])('reject a bad %s with one line naming the variable', (name, read) => {
    expect(read).toThrow(ConfigError);
    expect(read).toThrow(new RegExp(`^${name}: expected .+, got ".*"$`));
  });
});
