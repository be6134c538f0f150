import type { Money as ProtoMoney } from '../../gen/google/type/money.pb.js';
import type { FieldViolation } from '../errors/server-error.js';

/** An exact amount of a currency, as google.type.Money: never a float. */
export interface Money {
  /** ISO 4217 code, e.g. "EUR". */
  currencyCode: string;
  /** Whole units of the currency. */
  units: bigint;
  /** Billionths of a unit, 0 to 999,999,999 for the non-negative amounts we accept. */
  nanos: number;
}

/** Upper bound on a price, so sums of a few million prices still fit in int64 units. */
export const MAX_UNITS = 1_000_000_000_000n;

const currencies = new Set(Intl.supportedValuesOf('currency'));

/**
 * Why `money` is not an acceptable price (non-negative, bounded, a known
 * currency), as violations of `field`'s subfields; empty when it is fine.
 */
export function checkPrice(field: string, money: ProtoMoney | undefined): FieldViolation[] {
  if (!money) return [{ field, description: 'is required' }];
  const problems: FieldViolation[] = [];
  if (!/^[A-Z]{3}$/.test(money.currencyCode) || !currencies.has(money.currencyCode)) {
    problems.push({
      field: `${field}.currency_code`,
      description: 'must be an ISO 4217 currency code in upper case, e.g. "EUR"',
    });
  }
  if (money.units < 0n || money.nanos < 0) {
    problems.push({ field: `${field}.units`, description: 'the price must not be negative' });
  } else if (money.units > MAX_UNITS || (money.units === MAX_UNITS && money.nanos > 0)) {
    problems.push({ field: `${field}.units`, description: `must be at most ${MAX_UNITS}` });
  }
  if (!Number.isInteger(money.nanos) || money.nanos > 999_999_999) {
    problems.push({ field: `${field}.nanos`, description: 'must be from 0 to 999999999' });
  }
  return problems;
}
