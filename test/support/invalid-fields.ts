import { status } from '@grpc/grpc-js';
import { expect } from 'vitest';
import { ServerError } from '../../services/shared/errors/server-error.js';

/**
 * Runs `fn` and returns the fields its INVALID_ARGUMENT names, in order; []
 * when it does not throw. Any other error fails the test.
 */
export function invalidFields(fn: () => unknown): string[] {
  try {
    fn();
    return [];
  } catch (error) {
    expect(error).toBeInstanceOf(ServerError);
    expect((error as ServerError).code).toBe(status.INVALID_ARGUMENT);
    return (error as ServerError).details.fieldViolations?.map((v) => v.field) ?? [];
  }
}
