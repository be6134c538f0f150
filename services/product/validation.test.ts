import { describe, expect, it } from 'vitest';
import { invalidFields } from '../../test/support/invalid-fields.js';
import type { CreateProductRequest } from '../gen/shop/product/v1/product_service.pb.js';
import { newId } from '../shared/api/ids.js';
import { parseCreateProduct } from './validation.js';

const valid: CreateProductRequest = {
  name: '  Desk lamp ',
  ownerId: newId(),
  price: { currencyCode: 'EUR', units: 25n, nanos: 500_000_000 },
  requestId: '',
};

const violations = (request: Partial<CreateProductRequest>) =>
  invalidFields(() => parseCreateProduct({ ...valid, ...request }));

describe('parseCreateProduct', () => {
  it('trims the name and keeps the exact price', () => {
    expect(parseCreateProduct(valid)).toEqual({
      name: 'Desk lamp',
      ownerId: valid.ownerId,
      price: { currencyCode: 'EUR', units: 25n, nanos: 500_000_000 },
      requestId: undefined,
    });
  });

  it('counts characters, not UTF-16 units, against the name limit', () => {
    expect(violations({ name: '🪑'.repeat(200) })).toEqual([]);
    expect(violations({ name: '🪑'.repeat(201) })).toEqual(['name']);
  });

  it.each([
    ['empty', ''],
    ['only spaces', '   '],
    ['a NUL byte', 'lamp\u0000'],
    ['a control character', 'lamp\u001b[31m'],
    ['a line separator', 'lamp\u2028x'],
  ])('rejects a name that is %s', (_, name) => {
    expect(violations({ name })).toEqual(['name']);
  });

  it('requires a UUID owner and a price', () => {
    expect(violations({ ownerId: '' })).toEqual(['owner_id']);
    expect(violations({ ownerId: 'users/1' })).toEqual(['owner_id']);
    expect(violations({ price: undefined })).toEqual(['price']);
    expect(violations({ price: { currencyCode: 'EUR', units: -1n, nanos: 0 } })).toEqual([
      'price.units',
    ]);
  });
});
