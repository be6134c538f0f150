import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import type { CreateProductRequest } from '../gen/shop/product/v1/product_service.pb.js';
import { ServiceError } from '../shared/errors.js';
import { newId } from '../shared/ids.js';
import { parseCreateProduct } from './validation.js';

const valid: CreateProductRequest = {
  name: '  Desk lamp ',
  ownerId: newId(),
  price: { currencyCode: 'EUR', units: 25n, nanos: 500_000_000 },
  requestId: '',
};

function violations(request: Partial<CreateProductRequest>) {
  try {
    parseCreateProduct({ ...valid, ...request });
    return [];
  } catch (error) {
    expect(error).toBeInstanceOf(ServiceError);
    expect((error as ServiceError).code).toBe(status.INVALID_ARGUMENT);
    return (error as ServiceError).details.fieldViolations?.map((v) => v.field) ?? [];
  }
}

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
