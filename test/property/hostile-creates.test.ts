// Property test: random and hostile input to both services' create calls.
// Every answer must be OK or a proper client error (never INTERNAL or
// UNKNOWN), and the servers must keep serving.
import { credentials, status } from '@grpc/grpc-js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HealthClient } from '../../services/gen/grpc/health/v1/health.pb.js';
import type { ProductServiceClient } from '../../services/gen/shop/product/v1/product_service.pb.js';
import type { UserServiceClient } from '../../services/gen/shop/user/v1/user_service.pb.js';
import { unaryCall } from '../../services/shared/grpc/unary-call.js';
import { type Running, startProductService, startUserService } from '../support/services.js';

const clientErrors = new Set([
  status.INVALID_ARGUMENT,
  status.ALREADY_EXISTS,
  status.FAILED_PRECONDITION,
  status.NOT_FOUND,
]);

let users: Running<UserServiceClient>;
let products: Running<ProductServiceClient>;
const knownOwners: string[] = [];

beforeAll(async () => {
  users = await startUserService();
  products = await startProductService(users.address);
  for (const name of ['owner_a', 'owner_b']) {
    const { user } = await unaryCall(users.client, 'createUser', {
      username: name,
      email: `${name}@example.com`,
      requestId: '',
    });
    knownOwners.push(user?.id ?? '');
  }
});
afterAll(async () => {
  await products.stop();
  await users.stop();
});

/** Strings a fuzzer alone rarely finds: injections, control bytes, odd Unicode, sizes at limits. */
const hostile = fc.constantFrom(
  '',
  ' ',
  "'; DROP TABLE users; --",
  '" OR 1=1 --',
  '\u0000',
  'a\u0000b',
  '\u202e\u0041\u0042',
  '🙂'.repeat(40),
  '%s%n%x',
  '../../etc/passwd',
  '<script>alert(1)</script>',
  'a'.repeat(10_000),
  '\ud800',
  'ADA@EXAMPLE.COM',
  'ada@example.com',
  'x@y.z',
  'owner_a',
  '0190a4b2-1c3d-7e4f-8a9b-0c1d2e3f4a5b',
);
const text = fc.oneof(
  hostile,
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.stringMatching(/^[a-z0-9_.-]{0,40}$/),
);

/** Codes seen, so the test also proves the generators reach both success and rejection. */
const seen = new Set<number>();

/** The outcome of one call: OK, or the status code. */
async function outcome(call: Promise<unknown>): Promise<number> {
  let code: number = status.OK;
  try {
    await call;
  } catch (error) {
    code = (error as { code: number }).code;
  }
  seen.add(code);
  return code;
}

async function stillServing(address: string): Promise<void> {
  const health = new HealthClient(address, credentials.createInsecure());
  try {
    expect((await unaryCall(health, 'check', { service: '' })).status).toBe(1 /* SERVING */);
  } finally {
    health.close();
  }
}

describe('hostile creates', () => {
  it('CreateUser answers OK or a client error, never INTERNAL', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.stringMatching(/^[a-z0-9_.-]{3,32}$/), text),
        fc.oneof(fc.emailAddress(), text),
        fc.oneof(fc.constant(''), fc.uuid(), text),
        async (username, email, requestId) => {
          const code = await outcome(
            unaryCall(users.client, 'createUser', { username, email, requestId }),
          );
          expect(code === status.OK || clientErrors.has(code), `code ${status[code]}`).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
    expect(seen).toContain(status.OK);
    expect(seen).toContain(status.INVALID_ARGUMENT);
    await stillServing(users.address);
  });

  it('CreateProduct answers OK or a client error, never INTERNAL', async () => {
    seen.clear();
    const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
    const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
    const valid = fc.record({
      currencyCode: fc.constantFrom('EUR', 'USD', 'JPY'),
      units: fc.bigInt({ min: 0n, max: 10_000n }),
      nanos: fc.integer({ min: 0, max: 999_999_999 }),
    });
    const anything = fc.record({
      currencyCode: fc.oneof(fc.constantFrom('eur', 'XXX', 'EURO', ''), text),
      units: int64,
      nanos: int32,
    });
    const price = fc.option(fc.oneof(valid, anything), { nil: undefined });
    const ownerId = fc.oneof(fc.constantFrom(...knownOwners), fc.uuid({ version: 7 }), text);
    const name = fc.oneof(fc.string({ minLength: 1, maxLength: 50 }), text);
    await fc.assert(
      fc.asyncProperty(
        name,
        ownerId,
        price,
        fc.oneof(fc.constant(''), text),
        async (name, owner, money, requestId) => {
          const code = await outcome(
            unaryCall(products.client, 'createProduct', {
              name,
              ownerId: owner,
              price: money,
              requestId,
            }),
          );
          expect(code === status.OK || clientErrors.has(code), `code ${status[code]}`).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
    expect(seen).toContain(status.FAILED_PRECONDITION);
    await stillServing(products.address);
    await stillServing(users.address);
  });
});
