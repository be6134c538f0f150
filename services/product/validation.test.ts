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
    ['a right-to-left override', 'lamp\u202egnp.exe'],
    ['a bidirectional isolate', 'lamp\u2066x\u2069'],
    ['a zero-width space', 'la\u200bmp'],
    ['a zero-width joiner between letters', 'la\u200dmp'],
    ['a byte-order mark', '\ufefflamp'],
    ['a soft hyphen', 'la\u00admp'],
    ['a tag character', 'lamp\u{e0041}'],
    ['a replacement character (lost encoding)', 'lamp \ufffd'],
    ['a lone surrogate', 'lamp\ud800'],
  ])('rejects a name that is %s', (_, name) => {
    expect(violations({ name })).toEqual(['name']);
  });

  it.each([
    ['emoji sequences joined by U+200D', '👩‍💻 desk'],
    ['a skin-toned emoji sequence', '👩🏽‍🚀 poster'],
    ['letters with accents', 'Crème brûlée torch'],
    ['right-to-left script', 'מנורה'],
    ['a no-break space inside', 'Desk\u00a0lamp'],
  ])('accepts a name with %s', (_, name) => {
    expect(violations({ name })).toEqual([]);
  });

  it('normalises the name to NFC before counting and storing it', () => {
    const decomposed = 'Cafe\u0301 lamp';
    expect(parseCreateProduct({ ...valid, name: decomposed }).name).toBe('Caf\u00e9 lamp');
    // 200 characters as a reader sees them, 400 code points before NFC.
    expect(violations({ name: 'e\u0301'.repeat(200) })).toEqual([]);
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
