import { status } from '@grpc/grpc-js';
import { expect } from 'vitest';
import { ServiceError } from '../../services/shared/errors.js';

/**
 * Runs `fn` and returns the fields its INVALID_ARGUMENT names, in order; []
 * when it does not throw. Any other error fails the test.
 */
export function invalidFields(fn: () => unknown): string[] {
  try {
    fn();
    return [];
  } catch (error) {
    expect(error).toBeInstanceOf(ServiceError);
    expect((error as ServiceError).code).toBe(status.INVALID_ARGUMENT);
    return (error as ServiceError).details.fieldViolations?.map((v) => v.field) ?? [];
  }
}
