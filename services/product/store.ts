import type { Money } from '../shared/api/money.js';

/** A product, as the service and its stores see it. */
export interface Product {
  id: string;
  name: string;
  ownerId: string;
  price: Money;
  createTime: Date;
}

/**
 * Where products live. Implementations enforce uniqueness of id and
 * request_id in the database itself, and report a conflict as
 * UniqueViolationError naming the column. Owners live in UserService: this
 * store never touches the users' tables.
 */
export interface ProductStore {
  /** Stores a new product, remembering the idempotency key it was created under, if any. */
  insert(product: Product, requestId: string | undefined): Promise<void>;
  findByRequestId(requestId: string): Promise<Product | undefined>;
  get(id: string): Promise<Product | undefined>;
  /** Up to `limit` products with ids after `after`, in id (creation) order, optionally of one owner. */
  list(after: string | undefined, limit: number, ownerId: string | undefined): Promise<Product[]>;
}
