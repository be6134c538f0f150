import { describe, expect, it } from 'vitest';
import { checkPrice, MAX_UNITS } from './money.js';

const fields = (money: Parameters<typeof checkPrice>[1]) =>
  checkPrice('price', money).map((v) => v.field);

describe('checkPrice', () => {
  it('accepts exact non-negative amounts in known currencies', () => {
    expect(fields({ currencyCode: 'EUR', units: 0n, nanos: 0 })).toEqual([]);
    expect(fields({ currencyCode: 'JPY', units: 1500n, nanos: 0 })).toEqual([]);
    expect(fields({ currencyCode: 'USD', units: 19n, nanos: 990_000_000 })).toEqual([]);
    expect(fields({ currencyCode: 'CHF', units: MAX_UNITS, nanos: 0 })).toEqual([]);
  });

  it('requires a price', () => {
    expect(fields(undefined)).toEqual(['price']);
  });

  it.each([
    ['lower case', 'eur'],
    ['unknown code', 'XYZ'],
    ['too long', 'EURO'],
    ['empty', ''],
  ])('rejects a currency code that is %s', (_, currencyCode) => {
    expect(fields({ currencyCode, units: 1n, nanos: 0 })).toEqual(['price.currency_code']);
  });

  it('rejects negative amounts, nanos out of range and amounts above the cap', () => {
    expect(fields({ currencyCode: 'EUR', units: -1n, nanos: 0 })).toEqual(['price.units']);
    expect(fields({ currencyCode: 'EUR', units: 0n, nanos: -5 })).toEqual(['price.units']);
    expect(fields({ currencyCode: 'EUR', units: 1n, nanos: 1_000_000_000 })).toEqual([
      'price.nanos',
    ]);
    expect(fields({ currencyCode: 'EUR', units: MAX_UNITS, nanos: 1 })).toEqual(['price.units']);
    expect(fields({ currencyCode: 'EUR', units: 2n ** 63n - 1n, nanos: 0 })).toEqual([
      'price.units',
    ]);
  });

  it('reports every problem at once', () => {
    expect(fields({ currencyCode: 'x', units: -1n, nanos: 2_000_000_000 })).toEqual([
      'price.currency_code',
      'price.units',
      'price.nanos',
    ]);
  });
});
