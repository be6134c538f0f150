// Issue 14, bug 4: grpc-js reads grpc-timeout into a 32-bit integer, so a
// timeout of about 597 hours or more wraps, often to a deadline in the past.
// Such a call must be DEADLINE_EXCEEDED, never "user service is
// unavailable"; and the deadline a handler works to is clamped to the
// server's cap on call duration, so an absurd one cannot pin a call open.
import type { ClientHttp2Session } from 'node:http2';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateProductRequest,
  type ProductServiceClient,
  ProductServiceService,
} from '../../services/gen/shop/product/v1/product_service.pb.js';
import type { UserServiceClient } from '../../services/gen/shop/user/v1/user_service.pb.js';
import { newId } from '../../services/shared/api/ids.js';
import type { ServerMiddleware } from '../../services/shared/grpc/bind-service.js';
import { unaryCall } from '../../services/shared/grpc/unary-call.js';
import { grpcFrame, openRawSession, rawUnary } from '../support/raw-grpc.js';
import { type Running, startProductService, startUserService } from '../support/services.js';

let users: Running<UserServiceClient>;
let products: Running<ProductServiceClient>;
let session: ClientHttp2Session;
let ownerId = '';
/** The deadline each ProductService handler was given, by the time it ran. */
const seen: { deadline: Date | undefined; receivedAt: number }[] = [];
const recordDeadline: ServerMiddleware = (request, context, next) => {
  seen.push({ deadline: context.deadline, receivedAt: context.receivedAt });
  return next(request, context);
};

beforeAll(async () => {
  users = await startUserService();
  products = await startProductService(users.address, { middleware: [recordDeadline] });
  session = openRawSession(products.address);
  const { user } = await unaryCall(users.client, 'createUser', {
    username: 'deadline_owner',
    email: 'deadline.owner@example.com',
    requestId: '',
  });
  ownerId = user?.id ?? '';
});
afterAll(async () => {
  session.close();
  await products.stop();
  await users.stop();
});

const createProduct = (grpcTimeout: string) =>
  rawUnary(
    session,
    ProductServiceService.createProduct.path,
    grpcFrame(
      CreateProductRequest.encode({
        name: 'Clock',
        ownerId,
        price: { currencyCode: 'EUR', units: 10n, nanos: 0 },
        requestId: newId(),
      }).finish(),
    ),
    { headers: { 'grpc-timeout': grpcTimeout } },
  );

describe('inbound deadlines', () => {
  it.each(['99999999M', '2147484S', '1n'])(
    'answers grpc-timeout %s, which grpc-js turns into a deadline in the past, with DEADLINE_EXCEEDED',
    async (grpcTimeout) => {
      for (let i = 0; i < 10; i++) {
        const answer = await createProduct(grpcTimeout);
        expect(answer.ended).toBe('end');
        expect(status[answer.grpcStatus ?? -1], answer.grpcMessage).toBe('DEADLINE_EXCEEDED');
        expect(answer.grpcMessage).not.toMatch(/user service/i);
      }
    },
  );

  // 20 days fits grpc-js's 32 bits; 99999999H wraps to about 1.5 days.
  it.each(['480H', '99999999H'])(
    'clamps the far deadline of grpc-timeout %s to the server’s cap on call duration',
    async (grpcTimeout) => {
      seen.length = 0;
      const answer = await createProduct(grpcTimeout);
      expect(status[answer.grpcStatus ?? -1], answer.grpcMessage).toBe('OK');
      const [call] = seen;
      expect(call?.deadline).toBeInstanceOf(Date);
      expect((call?.deadline?.getTime() ?? 0) - (call?.receivedAt ?? 0)).toBe(30_000);
    },
  );

  it('gives a call without a deadline the cap as its deadline', async () => {
    seen.length = 0;
    await unaryCall(products.client, 'listProducts', { pageSize: 1, pageToken: '', ownerId: '' });
    const [call] = seen;
    expect((call?.deadline?.getTime() ?? 0) - (call?.receivedAt ?? 0)).toBe(30_000);
  });
});
