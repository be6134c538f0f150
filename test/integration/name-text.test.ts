// Issue 14, bug 6: a product name is shown to other people, so it must be
// text that renders as what it holds. Over the wire: invalid UTF-8 is
// rejected rather than stored as U+FFFD, invisible and direction-changing
// characters are a field violation, and names are stored in NFC.
import type { ClientHttp2Session } from 'node:http2';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateProductRequest,
  type ProductServiceClient,
  ProductServiceService,
} from '../../services/gen/shop/product/v1/product_service.pb.js';
import type { UserServiceClient } from '../../services/gen/shop/user/v1/user_service.pb.js';
import { unaryCall } from '../../services/shared/grpc/unary-call.js';
import { grpcFrame, openRawSession, rawUnary } from '../support/raw-grpc.js';
import { expectStatus } from '../support/rpc.js';
import { type Running, startProductService, startUserService } from '../support/services.js';

let users: Running<UserServiceClient>;
let products: Running<ProductServiceClient>;
let session: ClientHttp2Session;
let ownerId = '';

beforeAll(async () => {
  users = await startUserService();
  products = await startProductService(users.address);
  session = openRawSession(products.address);
  const { user } = await unaryCall(users.client, 'createUser', {
    username: 'name_owner',
    email: 'name.owner@example.com',
    requestId: '',
  });
  ownerId = user?.id ?? '';
});
afterAll(async () => {
  session.close();
  await products.stop();
  await users.stop();
});

const price = { currencyCode: 'EUR', units: 5n, nanos: 0 };
const create = (name: string) =>
  unaryCall(products.client, 'createProduct', { name, ownerId, price, requestId: '' });

describe('product names over the wire', () => {
  it('rejects a name that is not valid UTF-8 instead of storing U+FFFD', async () => {
    // Field 1 (name), length-delimited: "L", then 0xFF 0xFE, which no UTF-8 text holds.
    const badName = Buffer.from([0x0a, 3, 0x4c, 0xff, 0xfe]);
    const rest = CreateProductRequest.encode({ name: '', ownerId, price, requestId: '' }).finish();
    const answer = await rawUnary(
      session,
      ProductServiceService.createProduct.path,
      grpcFrame(Buffer.concat([badName, rest])),
    );
    expect(status[answer.grpcStatus ?? -1], answer.grpcMessage).toBe('INVALID_ARGUMENT');
    const listed = await unaryCall(products.client, 'listProducts', {
      pageSize: 100,
      pageToken: '',
      ownerId,
    });
    expect(listed.products.map((p) => p.name)).not.toContain('L\ufffd\ufffd');
  });

  it.each([
    ['U+202E (right-to-left override)', 'invoice\u202efdp.exe'],
    ['U+200B (zero-width space)', 'la\u200bmp'],
    ['U+FEFF (zero-width no-break space)', '\ufeffLamp'],
    ['U+2066 (left-to-right isolate)', 'lamp\u2066'],
  ])('answers a name with %s with a field violation', async (_, name) => {
    const decoded = await expectStatus(create(name), status.INVALID_ARGUMENT);
    expect(decoded.badRequest?.fieldViolations).toEqual([
      expect.objectContaining({ field: 'name', description: expect.stringMatching(/zero-width/) }),
    ]);
  });

  it('stores names in NFC, so a decomposed spelling is the same name', async () => {
    const { product } = await create('Cafe\u0301 table');
    expect(product?.name).toBe('Caf\u00e9 table');
    const got = await unaryCall(products.client, 'getProduct', { id: product?.id ?? '' });
    expect(got.product?.name).toBe('Caf\u00e9 table');
  });
});
