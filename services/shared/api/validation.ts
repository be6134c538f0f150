import { type FieldViolation, invalidArgument } from '../errors/server-error.js';
import { isUuid } from './ids.js';

/** A problem with a field, or undefined when it is fine. */
export type Check = FieldViolation | undefined;

/** Throws INVALID_ARGUMENT listing every violation, when there is any. */
export function assertValid(checks: readonly Check[]): void {
  const violations = checks.filter((c): c is FieldViolation => c !== undefined);
  if (violations.length > 0) throw invalidArgument(violations);
}

const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

/**
 * A repeated field of `min` to `max` items, each checked by `checkItem` as
 * `field[i]`. A list over `max` is one violation, and its items are not
 * looked at: a hostile request of thousands of bad items costs one check,
 * not thousands of violations.
 */
export function checkRepeated<T>(
  field: string,
  items: readonly T[],
  bounds: { min: number; max: number /** Singular, e.g. `id`. */; noun: string },
  checkItem: (field: string, item: T) => Check,
): Check[] {
  if (items.length > bounds.max) {
    return [
      {
        field,
        description: `must list at most ${count(bounds.max, bounds.noun)}, got ${items.length}`,
      },
    ];
  }
  if (items.length < bounds.min) {
    return [{ field, description: `must list at least ${count(bounds.min, bounds.noun)}` }];
  }
  return items.map((item, i) => checkItem(`${field}[${i}]`, item));
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

/**
 * Characters a name-like field (stored, then shown to other people) must not
 * hold: control characters (C0, DEL, C1, which include NUL), line and
 * paragraph separators, format characters (bidirectional overrides and
 * isolates such as U+202E, zero-width space, joiners and non-joiners, word
 * joiner, U+FEFF, soft hyphen, tags), lone surrogates, and U+FFFD (text whose
 * encoding was already lost). They make a name render differently from what
 * it holds, or hide one name inside another. The one exception: U+200D
 * (zero-width joiner) between two emoji, as in 👩‍💻, which is how emoji
 * sequences are spelled.
 */
const FORBIDDEN_IN_NAMES = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\uFFFD]/u;
const EMOJI_ZWJ =
  /(?<=\p{Extended_Pictographic}[\u{FE0F}\u{1F3FB}-\u{1F3FF}]?)\u200D(?=\p{Extended_Pictographic})/gu;

/** Whether `value` holds a character FORBIDDEN_IN_NAMES describes. */
export function hasForbiddenNameCharacters(value: string): boolean {
  return FORBIDDEN_IN_NAMES.test(value.replace(EMOJI_ZWJ, ''));
}

/**
 * A name-like field as stored: NFC (so the same name typed on two keyboards
 * is one name, and lengths count what a reader sees) and trimmed.
 */
export function normalizeName(value: string): string {
  return value.normalize('NFC').trim();
}

/**
 * The rule for every name-like field, given as the caller sent it: required
 * and at most `maxChars` code points once normalizeName made it NFC and
 * trimmed, and nothing FORBIDDEN_IN_NAMES lists anywhere, surrounding white
 * space included (JavaScript's trim would quietly drop a leading U+FEFF).
 */
export function checkName(field: string, value: string, maxChars: number): Check {
  if (hasForbiddenNameCharacters(value)) {
    return {
      field,
      description:
        'must not contain control, bidirectional-override, zero-width or other invisible formatting characters',
    };
  }
  const length = [...normalizeName(value)].length;
  if (length === 0) return { field, description: 'is required' };
  if (length > maxChars) return { field, description: `must be at most ${maxChars} characters` };
  return undefined;
}
