// One access line per call, with the status the caller actually got, and no
// personal data: checked on real servers with a logger whose lines we keep.
import { Client, credentials, Metadata, status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ProductServiceClient } from '../../services/gen/shop/product/v1/product_service.pb.js';
import type { UserServiceClient } from '../../services/gen/shop/user/v1/user_service.pb.js';
import { unaryCall } from '../../services/shared/grpc/unary-call.js';
import { createLogger } from '../../services/shared/process/logger.js';
import { delayMiddleware } from '../support/delay.js';
import { expectStatus } from '../support/rpc.js';
import { type Running, startProductService, startUserService } from '../support/services.js';

/** The project's logger (redaction, level names), writing into an array. */
function keptLog(service: string) {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({
    service,
    destination: { write: (line: string) => void lines.push(JSON.parse(line)) },
  });
  return { log, lines };
}

const accessLines = (lines: Record<string, unknown>[], method: string) =>
  lines.filter((l) => l.msg === 'rpc' && String(l.method).endsWith(`/${method}`));

const slow = delayMiddleware();

const userLog = keptLog('user-service');
const productLog = keptLog('product-service');
let users: Running<UserServiceClient>;
let products: Running<ProductServiceClient>;
let ownerId = '';
beforeAll(async () => {
  users = await startUserService({ log: userLog.log, middleware: [slow.middleware] });
  products = await startProductService(users.address, {
    log: productLog.log,
    userTimeoutMs: 20_000,
  });
  const { user } = await unaryCall(users.client, 'createUser', {
    username: 'grace_hopper',
    email: 'grace.hopper@example.com',
    requestId: '',
  });
  ownerId = user?.id ?? '';
});
afterAll(async () => {
  slow.delay.ms = 0;
  await products.stop();
  await users.stop();
});

describe('access log', () => {
  it('writes one line per call with method, code and duration, and no personal data', async () => {
    expect(accessLines(userLog.lines, 'CreateUser')).toEqual([
      expect.objectContaining({
        level: 'info',
        service: 'user-service',
        method: '/shop.user.v1.UserService/CreateUser',
        code: 'OK',
        duration_ms: expect.any(Number),
      }),
    ]);
    await expectStatus(
      unaryCall(users.client, 'createUser', {
        username: 'grace_hopper',
        email: 'x@example.com',
        requestId: '',
      }),
      status.ALREADY_EXISTS,
    );
    expect(accessLines(userLog.lines, 'CreateUser').map((l) => l.code)).toEqual([
      'OK',
      'ALREADY_EXISTS',
    ]);
    const everything = JSON.stringify([...userLog.lines, ...productLog.lines]);
    expect(everything).not.toContain('grace_hopper');
    expect(everything).not.toContain('grace.hopper@example.com');
  });

  it('records DEADLINE_EXCEEDED, not OK, for a call that outlived its deadline', async () => {
    slow.delay.ms = 1000;
    try {
      await expectStatus(
        unaryCall(users.client, 'getUser', { id: ownerId }, { deadline: Date.now() + 200 }),
        status.DEADLINE_EXCEEDED,
      );
      await vi.waitFor(() =>
        expect(accessLines(userLog.lines, 'GetUser').at(-1)?.code).toBe('DEADLINE_EXCEEDED'),
      );
    } finally {
      slow.delay.ms = 0;
    }
  });

  it('records CANCELLED when the caller cancels, without blaming UserService', async () => {
    slow.delay.ms = 30_000;
    try {
      const before = productLog.lines.length;
      const call = products.client.createProduct(
        {
          name: 'Lamp',
          ownerId,
          price: { currencyCode: 'EUR', units: 1n, nanos: 0 },
          requestId: '',
        },
        (error) => expect(error?.code).toBe(status.CANCELLED),
      );
      await new Promise((r) => setTimeout(r, 200)); // the owner check is waiting on UserService
      call.cancel();
      await vi.waitFor(() =>
        expect(
          accessLines(productLog.lines.slice(before), 'CreateProduct').map((l) => l.code),
        ).toEqual(['CANCELLED']),
      );
      const said = JSON.stringify(productLog.lines.slice(before));
      expect(said).not.toContain('user service is unavailable');
      expect(said).not.toContain('unexpected error');
    } finally {
      slow.delay.ms = 0;
    }
  });

  it('logs undecodable requests as INVALID_ARGUMENT like any other bad input', async () => {
    const raw = new Client(users.address, credentials.createInsecure());
    try {
      const error = await new Promise<{ code: number }>((resolve) =>
        raw.makeUnaryRequest(
          '/shop.user.v1.UserService/GetUser',
          (b: Buffer) => b,
          (b: Buffer) => b,
          Buffer.from([0x0a, 0x64, 0x41]),
          new Metadata(),
          {},
          (e) => resolve(e as { code: number }),
        ),
      );
      expect(error.code).toBe(status.INVALID_ARGUMENT);
      await vi.waitFor(() =>
        expect(accessLines(userLog.lines, 'GetUser').at(-1)?.code).toBe('INVALID_ARGUMENT'),
      );
    } finally {
      raw.close();
    }
  });
});
