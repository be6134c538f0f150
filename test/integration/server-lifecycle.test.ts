import { Client, credentials, Metadata, status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type HealthCheckResponse,
  HealthClient,
  HealthCheckResponse_ServingStatus as Serving,
} from '../../services/gen/grpc/health/v1/health.pb.js';
import type { UserServiceClient } from '../../services/gen/shop/user/v1/user_service.pb.js';
import type { ServerMiddleware } from '../../services/shared/grpc/bind-service.js';
import { ServingStatus } from '../../services/shared/grpc/health.js';
import { unaryCall } from '../../services/shared/grpc/unary-call.js';
import { expectStatus } from '../support/rpc.js';
import { type Running, startUserService } from '../support/services.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

function healthClient(address: string) {
  const client = new HealthClient(address, credentials.createInsecure());
  cleanup.push(() => client.close());
  return client;
}

/** Holds each call until released, to have calls in flight at will. */
function gate() {
  let release = () => {};
  const opened = new Promise<void>((resolve) => {
    release = resolve;
  });
  const middleware: ServerMiddleware = async (request, context, next) => {
    await opened;
    return next(request, context);
  };
  return { middleware, release };
}

describe('health', () => {
  it('is NOT_SERVING until the owner says ready, and knows only its own services', async () => {
    const users = await startUserService({ notServing: true });
    cleanup.push(() => users.stop());
    const health = healthClient(users.address);
    const check = (service: string) => unaryCall(health, 'check', { service });
    expect((await check('')).status).toBe(Serving.NOT_SERVING);
    users.server.health.set(ServingStatus.SERVING);
    expect((await check('')).status).toBe(Serving.SERVING);
    expect((await check('shop.user.v1.UserService')).status).toBe(Serving.SERVING);
    await expectStatus(check('shop.product.v1.ProductService'), status.NOT_FOUND);
  });

  it('refuses application calls with UNAVAILABLE until ready, so nothing runs on a half-made store', async () => {
    const users = await startUserService({ notServing: true });
    cleanup.push(() => users.stop());
    const early = await expectStatus(
      unaryCall(users.client, 'listUsers', { pageSize: 1, pageToken: '' }),
      status.UNAVAILABLE,
    );
    expect(early.errorInfo?.reason).toBe('NOT_SERVING');
    expect(early.retryInfo?.retryDelay).toBeDefined();
    users.server.health.set(ServingStatus.SERVING);
    await expect(
      unaryCall(users.client, 'listUsers', { pageSize: 1, pageToken: '' }),
    ).resolves.toBeDefined();
  });

  it('answers `liveness` SERVING from listen to exit, whatever readiness says', async () => {
    const users = await startUserService({ notServing: true });
    const health = healthClient(users.address);
    const check = (service: string) => unaryCall(health, 'check', { service });
    expect((await check('liveness')).status).toBe(Serving.SERVING);
    expect((await check('')).status).toBe(Serving.NOT_SERVING);
    const watch = health.watch({ service: 'liveness' });
    watch.on('error', () => {});
    const seen: Serving[] = [];
    watch.on('data', (m: HealthCheckResponse) => seen.push(m.status));
    users.server.health.set(ServingStatus.SERVING);
    users.server.health.set(ServingStatus.NOT_SERVING);
    const listed = await unaryCall(health, 'list', {});
    expect(listed.statuses).toMatchObject({
      '': { status: Serving.NOT_SERVING },
      'shop.user.v1.UserService': { status: Serving.NOT_SERVING },
      liveness: { status: Serving.SERVING },
    });
    await users.stop();
    // Readiness changes never reached the liveness watcher: it only ever saw SERVING.
    expect(seen).toEqual([Serving.SERVING]);
  });

  it('streams status changes to Watch and ends the stream on shutdown', async () => {
    const users = await startUserService({ notServing: true });
    const health = healthClient(users.address);
    const seen: Serving[] = [];
    const stream = health.watch({ service: 'shop.user.v1.UserService' });
    const ended = new Promise<void>((resolve) => stream.on('end', resolve));
    stream.on('data', (message: HealthCheckResponse) => seen.push(message.status));
    await expect.poll(() => seen).toEqual([Serving.NOT_SERVING]);
    users.server.health.set(ServingStatus.SERVING);
    await expect.poll(() => seen).toEqual([Serving.NOT_SERVING, Serving.SERVING]);
    await users.stop(); // would hang until the grace period if Watch streams kept it open
    await ended;
    expect(seen).toEqual([Serving.NOT_SERVING, Serving.SERVING, Serving.NOT_SERVING]);
  });

  it('answers SERVICE_UNKNOWN on Watch for a service it does not serve', async () => {
    const users = await startUserService();
    cleanup.push(() => users.stop());
    const stream = healthClient(users.address).watch({ service: 'nope.v1.Nope' });
    const first = await new Promise<HealthCheckResponse>((resolve) => stream.once('data', resolve));
    stream.cancel();
    stream.on('error', () => {});
    expect(first.status).toBe(Serving.SERVICE_UNKNOWN);
  });
});

describe('graceful shutdown', () => {
  async function startGated(shutdownGraceMs: number) {
    const held = gate();
    const users = await startUserService({ middleware: [held.middleware], shutdownGraceMs });
    return { users, held };
  }

  const list = (users: Running<UserServiceClient>) =>
    unaryCall(users.client, 'listUsers', { pageSize: 1, pageToken: '' });

  it('goes NOT_SERVING, lets in-flight calls finish, and refuses new ones', async () => {
    const { users, held } = await startGated(10_000);
    const health = healthClient(users.address);
    const inFlight = list(users);
    await new Promise((r) => setTimeout(r, 100)); // the call is now held inside the server
    const stopped = users.server.shutdown();
    expect(users.server.health.status).toBe(ServingStatus.NOT_SERVING);
    await expectStatus(unaryCall(health, 'check', { service: '' }), status.UNAVAILABLE);
    held.release();
    await expect(inFlight).resolves.toMatchObject({ users: [] });
    await stopped;
    await users.db.close();
    users.client.close();
  });

  it('cancels what is still running when the grace period ends', async () => {
    const { users } = await startGated(300);
    const inFlight = list(users).catch((error: { code: status }) => error.code);
    await new Promise((r) => setTimeout(r, 100));
    await users.server.shutdown();
    expect(await inFlight).toBe(status.CANCELLED);
    await users.db.close();
    users.client.close();
  });
});

describe('hostile bytes', () => {
  it('answers a request that is not valid protobuf with INVALID_ARGUMENT, not INTERNAL', async () => {
    const users = await startUserService();
    cleanup.push(() => users.stop());
    const raw = new Client(users.address, credentials.createInsecure());
    cleanup.push(() => raw.close());
    const send = (bytes: Buffer) =>
      new Promise<unknown>((resolve, reject) =>
        raw.makeUnaryRequest(
          '/shop.user.v1.UserService/CreateUser',
          (b: Buffer) => b,
          (b: Buffer) => b,
          bytes,
          new Metadata(),
          {},
          (error, response) => (error ? reject(error) : resolve(response)),
        ),
      );
    // Field 1 claims 100 bytes of string but the message ends after 1.
    const truncated = await expectStatus(
      send(Buffer.from([0x0a, 0x64, 0x41])),
      status.INVALID_ARGUMENT,
    );
    expect(truncated.errorInfo?.reason).toBe('MALFORMED_REQUEST');
    // A wire type that does not exist.
    await expectStatus(send(Buffer.from([0x0f, 0x01])), status.INVALID_ARGUMENT);
  });
});
