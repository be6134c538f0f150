// Issue 14, bug 1: an error answer must stay small whatever the request. A
// grpc-js caller cannot read trailers over about 64 KB (the call never
// answers, and other calls on the connection fail with it), and Envoy limits
// header blocks too. Every RPC is called with hostile, oversized input over
// raw HTTP/2, which measures the trailer block the server sent, and through a
// generated client, which must get its answer.
import type { ClientHttp2Session } from 'node:http2';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateProductRequest,
  GetProductRequest,
  ListProductsRequest,
  type ProductServiceClient,
  ProductServiceService,
} from '../../services/gen/shop/product/v1/product_service.pb.js';
import {
  BatchGetUsersRequest,
  CreateUserRequest,
  GetUserRequest,
  ListUsersRequest,
  type UserServiceClient,
  UserServiceService,
} from '../../services/gen/shop/user/v1/user_service.pb.js';
import { newId } from '../../services/shared/api/ids.js';
import { defaultServerLimits } from '../../services/shared/grpc/server-limits.js';
import { unaryCall } from '../../services/shared/grpc/unary-call.js';
import { grpcFrame, openRawSession, rawUnary } from '../support/raw-grpc.js';
import { deadlineIn, expectStatus } from '../support/rpc.js';
import { type Running, startProductService, startUserService } from '../support/services.js';

/** Well under grpc-js's ~64 KB and Envoy's limits, with room for the mesh's own headers. */
const TRAILER_BUDGET_BYTES = 8 * 1024;

let users: Running<UserServiceClient>;
let products: Running<ProductServiceClient>;
let userSession: ClientHttp2Session;
let productSession: ClientHttp2Session;

beforeAll(async () => {
  users = await startUserService();
  products = await startProductService(users.address);
  userSession = openRawSession(users.address);
  productSession = openRawSession(products.address);
});
afterAll(async () => {
  userSession.close();
  productSession.close();
  await products.stop();
  await users.stop();
});

const long = (char: string, length: number) => char.repeat(length);
/** 2,500 distinct invalid ids of about 20 characters: a request of about 55 KB, under the receive limit. */
const manyBadIds = Array.from({ length: 2500 }, (_, i) => `${i}-${long('x', 15)}`);

/** One hostile request per RPC: every field at once too long, malformed, or out of range. */
const hostile = [
  {
    service: 'user',
    method: UserServiceService.createUser.path,
    bytes: CreateUserRequest.encode({
      username: long('A', 20_000),
      email: long('@', 20_000),
      requestId: long(' ', 20_000),
    }).finish(),
  },
  {
    service: 'user',
    method: UserServiceService.getUser.path,
    bytes: GetUserRequest.encode({ id: long('z', 60_000) }).finish(),
  },
  {
    service: 'user',
    method: UserServiceService.batchGetUsers.path,
    bytes: BatchGetUsersRequest.encode({ ids: manyBadIds }).finish(),
  },
  {
    // Within the 100-id cap, so every id is checked: 100 violations.
    service: 'user',
    method: UserServiceService.batchGetUsers.path,
    bytes: BatchGetUsersRequest.encode({
      ids: Array.from({ length: 100 }, (_, i) => `${i}${long('\u00e9', 250)}`),
    }).finish(),
  },
  {
    service: 'user',
    method: UserServiceService.listUsers.path,
    bytes: ListUsersRequest.encode({ pageSize: -1, pageToken: long('A', 60_000) }).finish(),
  },
  {
    service: 'product',
    method: ProductServiceService.createProduct.path,
    bytes: CreateProductRequest.encode({
      name: long('\u202e', 5000),
      ownerId: long('o', 14_000),
      price: { currencyCode: long('x', 14_000), units: -1n, nanos: -5 },
      requestId: long('r', 14_000),
    }).finish(),
  },
  {
    service: 'product',
    method: ProductServiceService.getProduct.path,
    bytes: GetProductRequest.encode({ id: long('z', 60_000) }).finish(),
  },
  {
    service: 'product',
    method: ProductServiceService.listProducts.path,
    bytes: ListProductsRequest.encode({
      pageSize: -1,
      pageToken: long('p', 30_000),
      ownerId: long('o', 30_000),
    }).finish(),
  },
] as const;

describe('error answers to hostile, oversized requests', () => {
  it.each(hostile)('$method answers INVALID_ARGUMENT with small trailers', async (call) => {
    const session = call.service === 'user' ? userSession : productSession;
    const answer = await rawUnary(session, call.method, grpcFrame(call.bytes));
    expect(answer.ended).toBe('end');
    expect(call.bytes.length).toBeLessThan(defaultServerLimits.maxReceiveMessageBytes);
    expect(answer.grpcStatus).toBe(status.INVALID_ARGUMENT);
    expect(answer.trailerBytes).toBeLessThan(TRAILER_BUDGET_BYTES);
    console.info(
      `${call.method}: ${call.bytes.length} B request, ${answer.trailerBytes} B trailers`,
    );
  });

  it('answers a request over the receive limit RESOURCE_EXHAUSTED, with small trailers', async () => {
    const bytes = GetUserRequest.encode({
      id: long('z', defaultServerLimits.maxReceiveMessageBytes + 1),
    }).finish();
    const answer = await rawUnary(userSession, UserServiceService.getUser.path, grpcFrame(bytes));
    expect(status[answer.grpcStatus ?? -1]).toBe('RESOURCE_EXHAUSTED');
    expect(answer.trailerBytes).toBeLessThan(TRAILER_BUDGET_BYTES);
  });

  it('rejects too many ids with one violation, before looking at any of them', async () => {
    const decoded = await expectStatus(
      unaryCall(users.client, 'batchGetUsers', { ids: manyBadIds }, deadlineIn(5000)),
      status.INVALID_ARGUMENT,
    );
    expect(decoded.badRequest?.fieldViolations).toEqual([
      expect.objectContaining({ field: 'ids', description: 'must list at most 100 ids, got 2500' }),
    ]);
  });

  it('lists at most a few violations and says how many more there were', async () => {
    const ids = Array.from({ length: 100 }, (_, i) => `bad-${i}`);
    const decoded = await expectStatus(
      unaryCall(users.client, 'batchGetUsers', { ids }, deadlineIn(5000)),
      status.INVALID_ARGUMENT,
    );
    const listed = decoded.badRequest?.fieldViolations ?? [];
    expect(listed.length).toBeLessThanOrEqual(20);
    expect(listed[0]?.field).toBe('ids[0]');
    expect(decoded.message).toMatch(/and \d+ more$/);
    expect(decoded.errorInfo?.metadata).toMatchObject({ violations: '100' });
  });

  it('keeps the connection usable: a grpc-js caller gets its answer and so do its other calls', async () => {
    const calls = [
      expectStatus(
        unaryCall(users.client, 'batchGetUsers', { ids: manyBadIds }, deadlineIn(5000)),
        status.INVALID_ARGUMENT,
      ),
      expectStatus(
        unaryCall(users.client, 'getUser', { id: newId() }, deadlineIn(5000)),
        status.NOT_FOUND,
      ),
      expectStatus(
        unaryCall(
          products.client,
          'createProduct',
          {
            name: long('\u202e', 5000),
            ownerId: long('o', 14_000),
            price: { currencyCode: long('x', 14_000), units: -1n, nanos: -5 },
            requestId: long('r', 14_000),
          },
          deadlineIn(5000),
        ),
        status.INVALID_ARGUMENT,
      ),
      unaryCall(users.client, 'listUsers', { pageSize: 1, pageToken: '' }, deadlineIn(5000)),
    ];
    await Promise.all(calls);
  });
});
