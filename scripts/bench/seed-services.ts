import { unaryCall } from '../../services/shared/grpc/unary-call.js';
import type { Services } from '../lib/spawn-services.js';
import type { BaselineFixtures } from './baseline-fixtures.js';

/** What the scenarios need from the seeded data. */
export interface Seed {
  ownerIds: string[];
  productId: string;
  /** The real answers, for the baseline to give. */
  fixtures: BaselineFixtures;
}

/**
 * `owners` users (default 100), then 5 products for each, created round
 * robin, so the first page of 50 names 50 distinct owners (pages are in id,
 * that is creation, order) and ListProducts resolves as many as it can.
 * Through the public API, as any client would.
 */
export async function seedServices(services: Services, owners = 100): Promise<Seed> {
  const ownerIds: string[] = [];
  let createUser: BaselineFixtures['createUser'] | undefined;
  for (let i = 0; i < owners; i++) {
    const created = await unaryCall(services.userClient, 'createUser', {
      username: `bench${i}`,
      email: `bench${i}@example.com`,
      requestId: '',
    });
    createUser ??= created;
    ownerIds.push(created.user?.id ?? '');
  }
  for (let j = 0; j < 5; j++) {
    for (const [i, ownerId] of ownerIds.entries()) {
      await unaryCall(services.productClient, 'createProduct', {
        name: `item ${j} of ${i}`,
        ownerId,
        price: { currencyCode: 'EUR', units: 10n, nanos: 0 },
        requestId: '',
      });
    }
  }
  const listProducts = await unaryCall(services.productClient, 'listProducts', {
    pageSize: 50,
    pageToken: '',
    ownerId: '',
  });
  const getUser = await unaryCall(services.userClient, 'getUser', { id: ownerIds[0] ?? '' });
  if (!createUser) throw new Error('seedServices: no owner created');
  return {
    ownerIds,
    productId: listProducts.products[0]?.id ?? '',
    fixtures: { getUser, listProducts, createUser },
  };
}
