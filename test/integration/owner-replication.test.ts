// ProductService's owner read model, fed by UserService's event stream over
// real sockets: it follows registrations, resumes after a restart from the
// position it stored without applying anything twice, and keeps listings'
// owners resolved while UserService is down.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/lib/free-port.js';
import {
  OwnerResolution,
  type ProductServiceClient,
} from '../../services/gen/shop/product/v1/product_service.pb.js';
import type { UserServiceClient } from '../../services/gen/shop/user/v1/user_service.pb.js';
import { GRPC_USER_EVENTS_STREAM } from '../../services/product/grpc-user-event-transport.js';
import type { ServerMiddleware } from '../../services/shared/grpc/bind-service.js';
import { unaryCall } from '../../services/shared/grpc/unary-call.js';
import { type Running, startProductService, startUserService } from '../support/services.js';

/** A logger whose JSON lines the test reads. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, log: pino({ level: 'info' }, stream) };
}

/** Counts BatchGetUsers calls UserService receives. */
function batchCounter() {
  const counter = { calls: 0 };
  const middleware: ServerMiddleware = (request, context, next) => {
    if (context.method.endsWith('/BatchGetUsers')) counter.calls++;
    return next(request, context);
  };
  return { counter, middleware };
}

let sequence = 0;
async function register(users: Running<UserServiceClient>) {
  const username = `repl${++sequence}_${process.pid % 1000}`;
  const { user } = await unaryCall(users.client, 'createUser', {
    username,
    email: `${username}@example.com`,
    requestId: '',
  });
  return { id: user?.id ?? '', username };
}

const latestEvent = async (users: Running<UserServiceClient>) =>
  BigInt(
    (await users.db.query<{ p: bigint | null }>('SELECT MAX(position) AS p FROM user_events'))[0]
      ?.p ?? 0,
  );

const appliedPosition = async (products: Running<ProductServiceClient>) =>
  BigInt(
    (
      await products.db.query<{ position: bigint }>(
        'SELECT position FROM event_positions WHERE stream = ?',
        [GRPC_USER_EVENTS_STREAM],
      )
    )[0]?.position ?? 0,
  );

/** Waits until the read model has applied every event UserService stored. */
async function caughtUp(
  users: Running<UserServiceClient>,
  products: Running<ProductServiceClient>,
) {
  const target = await latestEvent(users);
  for (let waited = 0; (await appliedPosition(products)) < target; waited += 20) {
    if (waited > 5000) throw new Error(`read model not at ${target} after 5 s`);
    await sleep(20);
  }
}

const appliedIn = (lines: Record<string, unknown>[]) =>
  lines
    .filter((l) => l.msg === 'user events applied')
    .reduce((sum, l) => sum + Number(l.applied), 0);

describe('the owner read model', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shop-replication-'));
  let users: Running<UserServiceClient>;
  beforeAll(async () => {
    users = await startUserService({ sqlitePath: join(dir, 'user.sqlite') });
  });
  afterAll(async () => {
    await users?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('resumes after a restart from the stored position, applying every event exactly once', async () => {
    const path = join(dir, 'product-resume.sqlite');
    const capture = capturingLogger();
    const before = await latestEvent(users);
    let products = await startProductService(users.address, {
      sqlitePath: path,
      replicateOwners: true,
      log: capture.log,
    });
    for (let i = 0; i < 5; i++) await register(users);
    await caughtUp(users, products);
    await products.stop();

    // Registrations while ProductService is down are caught up after its restart.
    const whileDown = [];
    for (let i = 0; i < 7; i++) whileDown.push(await register(users));
    products = await startProductService(users.address, {
      sqlitePath: path,
      replicateOwners: true,
      log: capture.log,
    });
    try {
      await caughtUp(users, products);
      const total = Number((await latestEvent(users)) - before);
      expect(appliedIn(capture.lines)).toBe(total);
      const owners = await products.db.query<{ id: string; username: string }>(
        'SELECT id, username FROM owners',
      );
      for (const user of whileDown) expect(owners).toContainEqual(user);
      const following = capture.lines.filter((l) => l.msg === 'following user events');
      expect(following.at(-1)?.after_position).toBe(String(before + 5n));
    } finally {
      await products.stop();
    }
  });

  it('reconnects when UserService comes back, with a bounded number of warning lines', async () => {
    const capture = capturingLogger();
    const products = await startProductService(users.address, {
      replicateOwners: true,
      log: capture.log,
    });
    try {
      await caughtUp(users, products);
      const port = users.port;
      await users.stop();
      await sleep(2000);
      const warnings = capture.lines.filter((l) => l.msg === 'user events unavailable');
      // Attempts every 100 ms growing to 5 s: several failed, one line was written.
      expect(warnings).toHaveLength(1);
      users = await startUserService({ sqlitePath: join(dir, 'user.sqlite'), port });
      const owner = await register(users);
      await caughtUp(users, products);
      const [row] = await products.db.query('SELECT id, username FROM owners WHERE id = ?', [
        owner.id,
      ]);
      expect(row).toEqual(owner);
      const reconnected = capture.lines.filter((l) => l.msg === 'following user events').at(-1);
      expect(Number(reconnected?.failures)).toBeGreaterThan(1);
    } finally {
      await products.stop();
    }
  });
});

describe('listing products', () => {
  it('resolves owners from the model, without BatchGetUsers, and while UserService is down', async () => {
    const batches = batchCounter();
    const users = await startUserService({ middleware: [batches.middleware] });
    const products = await startProductService(users.address, { replicateOwners: true });
    try {
      const owner = await register(users);
      const { product } = await unaryCall(products.client, 'createProduct', {
        name: 'Lamp',
        ownerId: owner.id,
        price: { currencyCode: 'EUR', units: 3n, nanos: 0 },
        requestId: '',
      });
      await caughtUp(users, products);
      const listed = await unaryCall(products.client, 'listProducts', {
        pageSize: 10,
        pageToken: '',
        ownerId: '',
      });
      expect(batches.counter.calls).toBe(0);
      expect(listed.ownerResolution).toBe(OwnerResolution.OWNER_RESOLUTION_COMPLETE);
      expect(listed.products[0]?.owner).toEqual(owner);

      await users.stop();
      const got = await unaryCall(products.client, 'getProduct', { id: product?.id ?? '' });
      expect(got.ownerResolution).toBe(OwnerResolution.OWNER_RESOLUTION_COMPLETE);
      expect(got.product?.owner).toEqual(owner);
      const page = await unaryCall(products.client, 'listProducts', {
        pageSize: 10,
        pageToken: '',
        ownerId: '',
      });
      expect(page.ownerResolution).toBe(OwnerResolution.OWNER_RESOLUTION_COMPLETE);
      expect(page.products.map((p) => p.owner)).toEqual([owner]);
    } finally {
      await products.stop();
      await users.stop();
    }
  });
});

describe('an owner not replicated yet', () => {
  it('is fetched once with BatchGetUsers, kept, then served from the model', async () => {
    const batches = batchCounter();
    const users = await startUserService({ middleware: [batches.middleware] });
    // The event stream is unreachable: the model learns owners only from the fallback.
    const products = await startProductService(users.address, {
      replicateOwners: true,
      eventsAddress: `127.0.0.1:${await freePort()}`,
    });
    const list = () =>
      unaryCall(products.client, 'listProducts', { pageSize: 10, pageToken: '', ownerId: '' });
    try {
      const owner = await register(users);
      await unaryCall(products.client, 'createProduct', {
        name: 'Lamp',
        ownerId: owner.id,
        price: { currencyCode: 'EUR', units: 3n, nanos: 0 },
        requestId: '',
      });
      const first = await list();
      expect(first.products[0]?.owner).toEqual(owner);
      expect(batches.counter.calls).toBe(1);
      await list();
      expect(batches.counter.calls).toBe(1);
      await users.stop();
      const down = await list();
      expect(down.ownerResolution).toBe(OwnerResolution.OWNER_RESOLUTION_COMPLETE);
      expect(down.products[0]?.owner).toEqual(owner);
    } finally {
      await products.stop();
      await users.stop();
    }
  });
});
