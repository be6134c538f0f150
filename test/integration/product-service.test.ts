import { Metadata, status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  OwnerResolution,
  type ProductServiceClient,
} from '../../services/gen/shop/product/v1/product_service.pb.js';
import type { UserServiceClient } from '../../services/gen/shop/user/v1/user_service.pb.js';
import { newId } from '../../services/shared/api/ids.js';
import { MAX_UNITS } from '../../services/shared/api/money.js';
import type { ServerMiddleware } from '../../services/shared/grpc/bind-service.js';
import { unaryCall } from '../../services/shared/grpc/unary-call.js';
import { delayMiddleware } from '../support/delay.js';
import { deadlineIn, expectStatus } from '../support/rpc.js';
import { type Running, startProductService, startUserService } from '../support/services.js';

/** Records every call UserService receives, with the deadline it carried. */
function recorder() {
  const calls: { method: string; deadline: Date | undefined; requestId: unknown }[] = [];
  const middleware: ServerMiddleware = (request, context, next) => {
    calls.push({
      method: context.method.split('/')[2] ?? '',
      deadline: context.deadline,
      requestId: context.metadata.get('x-request-id')[0],
    });
    return next(request, context);
  };
  return { calls, middleware };
}

const price = (units: bigint, nanos = 0) => ({ currencyCode: 'EUR', units, nanos });

let sequence = 0;
async function createOwner(users: Running<UserServiceClient>) {
  const username = `owner${++sequence}_${Date.now() % 100000}`;
  const { user } = await unaryCall(users.client, 'createUser', {
    username,
    email: `${username}@example.com`,
    requestId: '',
  });
  return { id: user?.id ?? '', username };
}

describe('ProductService against a real UserService', () => {
  const userCalls = recorder();
  let users: Running<UserServiceClient>;
  let products: Running<ProductServiceClient>;
  beforeAll(async () => {
    users = await startUserService({ middleware: [userCalls.middleware] });
    products = await startProductService(users.address);
  });
  afterAll(async () => {
    await products.stop();
    await users.stop();
  });

  const createProduct = (ownerId: string, name = 'Desk lamp', requestId = '') =>
    unaryCall(products.client, 'createProduct', {
      name,
      ownerId,
      price: price(25n, 500_000_000),
      requestId,
    });

  it('creates a product for an existing owner and returns it with the owner resolved', async () => {
    const owner = await createOwner(users);
    const { product } = await createProduct(owner.id, '  Desk lamp  ');
    expect(product).toMatchObject({
      name: 'Desk lamp',
      ownerId: owner.id,
      price: { currencyCode: 'EUR', units: 25n, nanos: 500_000_000 },
      owner: { id: owner.id, username: owner.username },
    });
    const got = await unaryCall(products.client, 'getProduct', { id: product?.id ?? '' });
    expect(got.product).toEqual(product);
    expect(got.ownerResolution).toBe(OwnerResolution.OWNER_RESOLUTION_COMPLETE);
  });

  it('keeps the largest accepted amount exact, to the nano', async () => {
    const owner = await createOwner(users);
    const units = MAX_UNITS - 1n;
    const { product } = await unaryCall(products.client, 'createProduct', {
      name: 'Yacht',
      ownerId: owner.id,
      price: { currencyCode: 'JPY', units, nanos: 999_999_999 },
      requestId: '',
    });
    const got = await unaryCall(products.client, 'getProduct', { id: product?.id ?? '' });
    expect(got.product?.price).toEqual({ currencyCode: 'JPY', units, nanos: 999_999_999 });
  });

  it('refuses an owner that does not exist with FAILED_PRECONDITION', async () => {
    const ghost = newId();
    const failure = await expectStatus(createProduct(ghost), status.FAILED_PRECONDITION);
    expect(failure.errorInfo?.reason).toBe('OWNER_NOT_FOUND');
    expect(failure.preconditionFailure?.violations).toEqual([
      { type: 'OWNER_EXISTS', subject: `users/${ghost}`, description: expect.any(String) },
    ]);
  });

  it('replays a create with the same request_id', async () => {
    const owner = await createOwner(users);
    const requestId = newId();
    const first = await createProduct(owner.id, 'Chair', requestId);
    const retried = await Promise.all(
      [1, 2, 3].map(() => createProduct(owner.id, 'Chair', requestId)),
    );
    for (const r of retried) expect(r.product).toEqual(first.product);
    const listed = await unaryCall(products.client, 'listProducts', {
      pageSize: 100,
      pageToken: '',
      ownerId: owner.id,
    });
    expect(listed.products.map((p) => p.id)).toEqual([first.product?.id]);
    await expectStatus(createProduct(owner.id, 'Table', requestId), status.INVALID_ARGUMENT);
  });

  it('resolves the owners of a page with one BatchGetUsers call', async () => {
    const owners = await Promise.all([1, 2, 3].map(() => createOwner(users)));
    for (const owner of owners) {
      for (const name of ['a', 'b']) await createProduct(owner.id, name);
    }
    userCalls.calls.length = 0;
    let pageToken = '';
    let pages = 0;
    const seen: string[] = [];
    do {
      const page = await unaryCall(products.client, 'listProducts', {
        pageSize: 4,
        pageToken,
        ownerId: '',
      });
      pages++;
      expect(page.ownerResolution).toBe(OwnerResolution.OWNER_RESOLUTION_COMPLETE);
      for (const product of page.products) {
        expect(product.owner?.id).toBe(product.ownerId);
        seen.push(product.id);
      }
      pageToken = page.nextPageToken;
    } while (pageToken !== '');
    expect(new Set(seen).size).toBe(seen.length);
    expect(userCalls.calls.map((c) => c.method)).toEqual(Array(pages).fill('BatchGetUsers'));
  });

  it('filters by owner, with page tokens bound to that filter', async () => {
    const [mine, theirs] = await Promise.all([createOwner(users), createOwner(users)]);
    for (const name of ['1', '2', '3']) await createProduct(mine?.id ?? '', name);
    await createProduct(theirs?.id ?? '', 'other');
    const first = await unaryCall(products.client, 'listProducts', {
      pageSize: 2,
      pageToken: '',
      ownerId: mine?.id ?? '',
    });
    const second = await unaryCall(products.client, 'listProducts', {
      pageSize: 2,
      pageToken: first.nextPageToken,
      ownerId: mine?.id ?? '',
    });
    expect([...first.products, ...second.products].map((p) => p.name)).toEqual(['1', '2', '3']);
    expect(second.nextPageToken).toBe('');
    const foreign = await expectStatus(
      unaryCall(products.client, 'listProducts', {
        pageSize: 2,
        pageToken: first.nextPageToken,
        ownerId: theirs?.id ?? '',
      }),
      status.INVALID_ARGUMENT,
    );
    expect(foreign.badRequest?.fieldViolations[0]?.field).toBe('page_token');
    await expectStatus(
      unaryCall(products.client, 'listProducts', { pageSize: 2, pageToken: '', ownerId: 'bob' }),
      status.INVALID_ARGUMENT,
    );
  });

  it('forwards the caller’s x-request-id to UserService', async () => {
    const owner = await createOwner(users);
    userCalls.calls.length = 0;
    const metadata = new Metadata();
    metadata.set('x-request-id', 'req-7f3a');
    await unaryCall(
      products.client,
      'createProduct',
      { name: 'Mug', ownerId: owner.id, price: price(4n), requestId: '' },
      {},
      metadata,
    );
    expect(userCalls.calls).toEqual([
      expect.objectContaining({ method: 'GetUser', requestId: 'req-7f3a' }),
    ]);
  });

  it('gives UserService the earlier of the caller’s deadline (less headroom) and the 2 s default', async () => {
    const owner = await createOwner(users);
    await createProduct(owner.id); // so the listings below have an owner to resolve
    const list = (deadline?: number) =>
      unaryCall(
        products.client,
        'listProducts',
        { pageSize: 1, pageToken: '', ownerId: owner.id },
        deadline === undefined ? {} : { deadline },
      );
    const propagated = async (deadline?: number) => {
      userCalls.calls.length = 0;
      const before = Date.now();
      await list(deadline);
      const after = Date.now();
      expect(userCalls.calls.map((c) => c.method)).toEqual(['BatchGetUsers']);
      return { before, after, sent: userCalls.calls[0]?.deadline?.getTime() ?? Number.NaN };
    };

    // A caller's deadline shorter than the default is what propagates, less at most 100 ms.
    const short = Date.now() + 1500;
    const a = await propagated(short);
    expect(a.sent).toBeLessThanOrEqual(short);
    expect(a.sent).toBeGreaterThanOrEqual(short - 100 - 20); // grpc-timeout is sent in ms

    // A longer one, or none, is capped by the default: a slow UserService cannot hold the read.
    for (const deadline of [Date.now() + 60_000, undefined]) {
      const b = await propagated(deadline);
      expect(b.sent).toBeGreaterThanOrEqual(b.before + 2000 - 20);
      expect(b.sent).toBeLessThanOrEqual(b.after + 2000 + 20);
    }
  });
});

describe('ProductService when UserService is down', () => {
  let users: Running<UserServiceClient>;
  let products: Running<ProductServiceClient>;
  let productId = '';
  let ownerId = '';
  beforeAll(async () => {
    users = await startUserService();
    // A long default deadline: answers below come fast only if the code fails fast.
    products = await startProductService(users.address, { userTimeoutMs: 20_000 });
    ownerId = (await createOwner(users)).id;
    productId =
      (
        await unaryCall(products.client, 'createProduct', {
          name: 'Lamp',
          ownerId,
          price: price(3n),
          requestId: 'lamp-1',
        })
      ).product?.id ?? '';
    await users.stop();
  });
  afterAll(() => products.stop());

  it('still answers a retried create with the original product', async () => {
    const retried = await unaryCall(products.client, 'createProduct', {
      name: 'Lamp',
      ownerId,
      price: price(3n),
      requestId: 'lamp-1',
    });
    expect(retried.product).toMatchObject({ id: productId, ownerId, owner: undefined });
  });

  it('still answers reads, without owners, saying they are unresolved', async () => {
    const got = await unaryCall(products.client, 'getProduct', { id: productId });
    expect(got.ownerResolution).toBe(OwnerResolution.OWNER_RESOLUTION_UNAVAILABLE);
    expect(got.product).toMatchObject({ id: productId, ownerId, owner: undefined });
    const listed = await unaryCall(products.client, 'listProducts', {
      pageSize: 10,
      pageToken: '',
      ownerId: '',
    });
    expect(listed.ownerResolution).toBe(OwnerResolution.OWNER_RESOLUTION_UNAVAILABLE);
    expect(listed.products.map((p) => p.id)).toContain(productId);
  });

  it('fails writes fast with UNAVAILABLE and a retry hint', async () => {
    const started = Date.now();
    const failure = await expectStatus(
      unaryCall(products.client, 'createProduct', {
        name: 'Lamp',
        ownerId,
        price: price(3n),
        requestId: '',
      }),
      status.UNAVAILABLE,
    );
    // Far below the 20 s deadline: the call was refused, not waited out.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(failure.errorInfo?.reason).toBe('USER_SERVICE_UNAVAILABLE');
    expect(failure.retryInfo?.retryDelay).toBeDefined();
  });
});

describe('ProductService when UserService is slow', () => {
  let users: Running<UserServiceClient>;
  let products: Running<ProductServiceClient>;
  let ownerId = '';
  const slow = delayMiddleware();
  beforeAll(async () => {
    users = await startUserService({ middleware: [slow.middleware] });
    products = await startProductService(users.address, { userTimeoutMs: 20_000 });
    ownerId = (await createOwner(users)).id;
    await unaryCall(products.client, 'createProduct', {
      name: 'Lamp',
      ownerId,
      price: price(3n),
      requestId: '',
    });
    slow.delay.ms = 30_000;
  });
  afterAll(async () => {
    slow.delay.ms = 0;
    await products.stop();
    await users.stop();
  });

  it('answers a read within the caller deadline, degraded', async () => {
    const listed = await unaryCall(
      products.client,
      'listProducts',
      { pageSize: 10, pageToken: '', ownerId },
      deadlineIn(1500),
    );
    expect(listed.ownerResolution).toBe(OwnerResolution.OWNER_RESOLUTION_UNAVAILABLE);
    expect(listed.products).toHaveLength(1);
  });

  it('fails a write with UNAVAILABLE before the caller deadline', async () => {
    await expectStatus(
      unaryCall(
        products.client,
        'createProduct',
        { name: 'Lamp', ownerId, price: price(3n), requestId: '' },
        deadlineIn(1500),
      ),
      status.UNAVAILABLE,
    );
  });
});
