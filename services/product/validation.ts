import type { CreateProductRequest } from '../gen/shop/product/v1/product_service.pb.js';
import { checkPrice, type Money } from '../shared/api/money.js';
import {
  assertValid,
  checkName,
  checkRequestId,
  checkUuid,
  normalizeName,
} from '../shared/api/validation.js';

export const MAX_NAME_LENGTH = 200;

export interface NewProduct {
  /** NFC and trimmed (see normalizeName). */
  name: string;
  ownerId: string;
  price: Money;
  requestId: string | undefined;
}

/** The request as a new product, or INVALID_ARGUMENT naming every bad field. */
export function parseCreateProduct(request: CreateProductRequest): NewProduct {
  assertValid([
    checkName('name', request.name, MAX_NAME_LENGTH),
    checkUuid('owner_id', request.ownerId),
    ...checkPrice('price', request.price),
    checkRequestId('request_id', request.requestId),
  ]);
  const price = request.price as Money;
  return {
    name: normalizeName(request.name),
    ownerId: request.ownerId,
    price: { currencyCode: price.currencyCode, units: price.units, nanos: price.nanos },
    requestId: request.requestId || undefined,
  };
}
