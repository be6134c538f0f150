import type { CreateProductRequest } from '../gen/shop/product/v1/product_service.pb.js';
import { checkPrice, type Money } from '../shared/api/money.js';
import {
  assertValid,
  type Check,
  checkRequestId,
  checkUuid,
  hasControlCharacters,
} from '../shared/api/validation.js';

export const MAX_NAME_LENGTH = 200;

export function checkName(name: string): Check {
  const length = [...name].length;
  if (length === 0) return { field: 'name', description: 'is required' };
  if (length > MAX_NAME_LENGTH) {
    return { field: 'name', description: `must be at most ${MAX_NAME_LENGTH} characters` };
  }
  if (hasControlCharacters(name)) {
    return { field: 'name', description: 'must not contain control characters' };
  }
  return undefined;
}

export interface NewProduct {
  /** Trimmed. */
  name: string;
  ownerId: string;
  price: Money;
  requestId: string | undefined;
}

/** The request as a new product, or INVALID_ARGUMENT naming every bad field. */
export function parseCreateProduct(request: CreateProductRequest): NewProduct {
  const name = request.name.trim();
  assertValid([
    checkName(name),
    checkUuid('owner_id', request.ownerId),
    ...checkPrice('price', request.price),
    checkRequestId('request_id', request.requestId),
  ]);
  const price = request.price as Money;
  return {
    name,
    ownerId: request.ownerId,
    price: { currencyCode: price.currencyCode, units: price.units, nanos: price.nanos },
    requestId: request.requestId || undefined,
  };
}
