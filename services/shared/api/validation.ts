import { type FieldViolation, invalidArgument } from '../errors/server-error.js';
import { isUuid } from './ids.js';

/** A problem with a field, or undefined when it is fine. */
export type Check = FieldViolation | undefined;

/** Throws INVALID_ARGUMENT listing every violation, when there is any. */
export function assertValid(checks: readonly Check[]): void {
  const violations = checks.filter((c): c is FieldViolation => c !== undefined);
  if (violations.length > 0) throw invalidArgument(violations);
}

export function checkUuid(field: string, value: string, required = true): Check {
  if (value === '') return required ? { field, description: 'is required (a UUID)' } : undefined;
  return isUuid(value) ? undefined : { field, description: 'must be a lower-case UUID' };
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** request_id is optional; when set it must fit the idempotency-key format. */
export function checkRequestId(field: string, value: string): Check {
  if (value === '' || REQUEST_ID.test(value)) return undefined;
  return {
    field,
    description: "must be 1 to 64 characters of letters, digits, '.', '_', ':' and '-'",
  };
}

/** Text that is stored and shown back: no control characters (which also excludes NUL). */
export function hasControlCharacters(value: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point.
  return /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(value);
}
