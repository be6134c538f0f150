import { readFileSync, writeFileSync } from 'node:fs';
import { ListProductsResponse } from '../../services/gen/shop/product/v1/product_service.pb.js';
import {
  CreateUserResponse,
  GetUserResponse,
} from '../../services/gen/shop/user/v1/user_service.pb.js';

/**
 * The answers the bare baseline gives, taken from the real services right
 * after seeding: the same user, the same page of 50 products with their
 * owners, a user as CreateUser returns it. Same bytes, so the baseline
 * serializes exactly what the services do.
 */
export interface BaselineFixtures {
  getUser: GetUserResponse;
  listProducts: ListProductsResponse;
  createUser: CreateUserResponse;
}

const codecs = {
  getUser: GetUserResponse,
  listProducts: ListProductsResponse,
  createUser: CreateUserResponse,
} as const;

/** Writes the fixtures as base64 protobuf, one field per response. */
export function writeBaselineFixtures(path: string, fixtures: BaselineFixtures): void {
  const encoded = {
    getUser: GetUserResponse.encode(fixtures.getUser).finish(),
    listProducts: ListProductsResponse.encode(fixtures.listProducts).finish(),
    createUser: CreateUserResponse.encode(fixtures.createUser).finish(),
  };
  const json = Object.fromEntries(
    Object.entries(encoded).map(([name, bytes]) => [name, Buffer.from(bytes).toString('base64')]),
  );
  writeFileSync(path, JSON.stringify(json));
}

export function readBaselineFixtures(path: string): BaselineFixtures {
  const json = JSON.parse(readFileSync(path, 'utf8')) as Record<keyof BaselineFixtures, string>;
  const bytes = (name: keyof BaselineFixtures) => Buffer.from(json[name], 'base64');
  return {
    getUser: codecs.getUser.decode(bytes('getUser')),
    listProducts: codecs.listProducts.decode(bytes('listProducts')),
    createUser: codecs.createUser.decode(bytes('createUser')),
  };
}
