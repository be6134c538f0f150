// ProductService's half of the gateway's owner rule (docs/gateway.md): the
// gateway passes the verified token subject in x-shop-subject; a create
// whose owner_id is someone else is PERMISSION_DENIED. Without the header
// (not through the gateway) nothing changes.
import { Metadata, status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProductServiceClient } from '../../services/gen/shop/product/v1/product_service.pb.js';
import type { UserServiceClient } from '../../services/gen/shop/user/v1/user_service.pb.js';
import { gatewaySubjectHeader } from '../../services/product/gateway-subject.js';
import { unaryCall } from '../../services/shared/grpc/unary-call.js';
import { expectStatus } from '../support/rpc.js';
import { type Running, startProductService, startUserService } from '../support/services.js';

describe('CreateProduct behind the gateway', () => {
  let users: Running<UserServiceClient>;
  let products: Running<ProductServiceClient>;
  let ownerId = '';
  beforeAll(async () => {
    users = await startUserService();
    products = await startProductService(users.address);
    const { user } = await unaryCall(users.client, 'createUser', {
      username: 'grace',
      email: 'grace@example.com',
      requestId: '',
    });
    ownerId = user?.id ?? '';
  });
  afterAll(async () => {
    await products.stop();
    await users.stop();
  });

  const create = (subject?: string, requestId = '') => {
    const metadata = new Metadata();
    if (subject !== undefined) metadata.set(gatewaySubjectHeader, subject);
    return unaryCall(
      products.client,
      'createProduct',
      { name: 'Lamp', ownerId, price: { currencyCode: 'EUR', units: 3n, nanos: 0 }, requestId },
      {},
      metadata,
    );
  };

  it('creates for the subject that owns the product', async () => {
    const { product } = await create(ownerId);
    expect(product?.ownerId).toBe(ownerId);
  });

  it('denies a create for another owner, with a reason, and a replay of one', async () => {
    const denied = await expectStatus(
      create('0190a000-0000-7000-8000-000000000000'),
      status.PERMISSION_DENIED,
    );
    expect(denied.message).toContain('subject of your token');
    expect(denied.errorInfo?.reason).toBe('OWNER_NOT_CALLER');
    const requestId = 'req-owner-1';
    await create(ownerId, requestId);
    await expectStatus(create('someone-else', requestId), status.PERMISSION_DENIED);
  });

  it('leaves calls without the header (not through the gateway) as they were', async () => {
    const { product } = await create();
    expect(product?.ownerId).toBe(ownerId);
  });
});
