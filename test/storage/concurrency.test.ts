// Two replicas of each service, as separate processes started from dist/,
// sharing one PostgreSQL: the database, not the process, enforces uniqueness
// and idempotency, so parallel creates spread over both replicas give no
// duplicates, lose no writes, and a retry that lands on the other replica is
// answered with the original entity.
import { type ServiceError, status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeStatus } from '../../scripts/lib/decode-status.js';
import { type PostgresServer, startPostgres } from '../../scripts/lib/postgres-server.js';
import {
  productClientOf,
  type ServiceProcess,
  spawnService,
  userClientOf,
} from '../../scripts/lib/spawn-service.js';
import type { ProductServiceClient } from '../../services/gen/shop/product/v1/product_service.pb.js';
import type { User, UserServiceClient } from '../../services/gen/shop/user/v1/user_service.pb.js';
import { unaryCall } from '../../services/shared/grpc/unary-call.js';
import { deadlineIn } from '../support/rpc.js';

describe('two replicas of each service on one PostgreSQL', () => {
  let server: PostgresServer;
  const processes: ServiceProcess[] = [];
  let users: UserServiceClient[] = [];
  let products: ProductServiceClient[] = [];

  beforeAll(async () => {
    server = await startPostgres();
    const [usersDb, productsDb] = [
      await server.createDatabase('users'),
      await server.createDatabase('products'),
    ];
    const userReplicas = await Promise.all(
      [0, 1].map(() =>
        spawnService('user', { env: { DATABASE_URL: usersDb.url }, telemetry: false, wait: false }),
      ),
    );
    processes.push(...userReplicas);
    const productReplicas = await Promise.all(
      userReplicas.map((u) =>
        spawnService('product', {
          env: {
            DATABASE_URL: productsDb.url,
            USER_SERVICE_ADDRESS: u.address,
          },
          telemetry: false,
          wait: false,
        }),
      ),
    );
    processes.push(...productReplicas);
    await Promise.all(processes.map((p) => p.waitServing()));
    for (const p of processes) {
      await p.waitForLog((l) => l.msg === 'schema up to date' && l.dialect === 'postgres');
    }
    users = userReplicas.map(userClientOf);
    products = productReplicas.map(productClientOf);
  });

  afterAll(async () => {
    for (const client of [...users, ...products]) client.close();
    const codes = await Promise.all(processes.map((p) => p.stop()));
    await server?.close();
    expect(codes).toEqual(processes.map(() => 0));
  });

  const replica = <T>(clients: T[], i: number): T => {
    const client = clients[i % clients.length];
    if (!client) throw new Error('no replica');
    return client;
  };

  const createUser = (
    i: number,
    request: { username: string; email: string; requestId?: string },
  ) => {
    const client = replica(users, i);
    return unaryCall(client, 'createUser', { requestId: '', ...request }, deadlineIn(10_000));
  };

  async function listAllUsers(pageSize = 100): Promise<User[]> {
    const all: User[] = [];
    let pageToken = '';
    for (let page = 0; page < 1000; page++) {
      const client = replica(users, page);
      const response = await unaryCall(
        client,
        'listUsers',
        { pageSize, pageToken },
        deadlineIn(10_000),
      );
      all.push(...response.users);
      pageToken = response.nextPageToken;
      if (!pageToken) return all;
    }
    throw new Error('pagination did not end');
  }

  const codeOf = (error: unknown) => (error as ServiceError).code;

  it('creates users in parallel on both replicas, each retry answered with the original', async () => {
    const keys = Array.from({ length: 60 }, (_, i) => i);
    // Every create is sent twice at once, once to each replica, as a client
    // retrying a timed-out call through the mesh would.
    const answers = await Promise.all(
      keys.map((i) =>
        Promise.all(
          [0, 1].map((r) =>
            createUser(i + r, {
              username: `par${i}`,
              email: `par${i}@example.com`,
              requestId: `create-par-${i}`,
            }),
          ),
        ),
      ),
    );
    for (const [first, second] of answers) {
      expect(first?.user?.id).toBeDefined();
      expect(second?.user).toEqual(first?.user);
    }
    const stored = (await listAllUsers()).filter((u) => u.username.startsWith('par'));
    expect(stored).toHaveLength(keys.length);
    expect(new Set(stored.map((u) => u.id)).size).toBe(keys.length);
    expect(stored.map((u) => u.id).sort()).toEqual(answers.map(([a]) => a?.user?.id).sort());
  });

  it('lets exactly one of two replicas racing for a username or email win', async () => {
    const rounds = Array.from({ length: 15 }, (_, i) => i);
    const outcomes = await Promise.all(
      rounds.flatMap((i) => [
        Promise.allSettled([
          createUser(0, { username: `same${i}`, email: `same${i}.a@example.com` }),
          createUser(1, { username: `same${i}`, email: `same${i}.b@example.com` }),
        ]),
        Promise.allSettled([
          createUser(0, { username: `mail${i}a`, email: `mail${i}@example.com` }),
          createUser(1, { username: `mail${i}b`, email: `mail${i}@example.com` }),
        ]),
      ]),
    );
    for (const [index, pair] of outcomes.entries()) {
      const won = pair.filter((o) => o.status === 'fulfilled');
      const lost = pair.filter((o) => o.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      const error = lost[0]?.reason as ServiceError;
      expect(error.code).toBe(status.ALREADY_EXISTS);
      expect(decodeStatus(error).errorInfo?.reason).toBe(
        index % 2 === 0 ? 'USERNAME_TAKEN' : 'EMAIL_TAKEN',
      );
    }
    const stored = await listAllUsers();
    for (const i of rounds) {
      expect(stored.filter((u) => u.username === `same${i}`)).toHaveLength(1);
      expect(stored.filter((u) => u.email === `mail${i}@example.com`)).toHaveLength(1);
    }
  });

  it('refuses a request_id reused for a different user on the other replica', async () => {
    await createUser(0, { username: 'keyowner', email: 'keyowner@example.com', requestId: 'k-1' });
    const error = await createUser(1, {
      username: 'keythief',
      email: 'keythief@example.com',
      requestId: 'k-1',
    }).catch((e: unknown) => e);
    expect(codeOf(error)).toBe(status.INVALID_ARGUMENT);
    expect(decodeStatus(error as ServiceError).badRequest?.fieldViolations[0]?.field).toBe(
      'request_id',
    );
  });

  it('creates products in parallel on both replicas, each retry answered with the original', async () => {
    const owner = await createUser(0, { username: 'maker', email: 'maker@example.com' });
    const ownerId = owner.user?.id ?? '';
    const keys = Array.from({ length: 40 }, (_, i) => i);
    const answers = await Promise.all(
      keys.map((i) =>
        Promise.all(
          [0, 1].map((r) => {
            const client = replica(products, i + r);
            return unaryCall(
              client,
              'createProduct',
              {
                name: `Lamp ${i}`,
                ownerId,
                price: { currencyCode: 'EUR', units: BigInt(i), nanos: 990_000_000 },
                requestId: `create-lamp-${i}`,
              },
              deadlineIn(10_000),
            );
          }),
        ),
      ),
    );
    for (const [first, second] of answers) {
      expect(second?.product?.id).toBe(first?.product?.id);
      expect(second?.product?.price).toEqual(first?.product?.price);
    }
    const listed: string[] = [];
    let pageToken = '';
    for (let page = 0; page < 100; page++) {
      const client = replica(products, page);
      const response = await unaryCall(
        client,
        'listProducts',
        {
          ownerId,
          pageSize: 15,
          pageToken,
        },
        deadlineIn(10_000),
      );
      listed.push(...response.products.map((p) => p.id));
      pageToken = response.nextPageToken;
      if (!pageToken) break;
    }
    expect(listed).toHaveLength(keys.length);
    expect(listed).toEqual(answers.map(([a]) => a?.product?.id ?? '').sort());
  });

  it('keeps pages stable while the other replica inserts', async () => {
    const before = new Set((await listAllUsers()).map((u) => u.id));
    let writing = true;
    let written = 0;
    const writer = (async () => {
      while (writing && written < 200) {
        await createUser(1, { username: `live${written}`, email: `live${written}@example.com` });
        written++;
      }
    })();
    const seen: string[] = [];
    let pageToken = '';
    for (let page = 0; page < 500; page++) {
      const client = replica(users, 0);
      const response = await unaryCall(
        client,
        'listUsers',
        { pageSize: 7, pageToken },
        deadlineIn(10_000),
      );
      seen.push(...response.users.map((u) => u.id));
      pageToken = response.nextPageToken;
      if (!pageToken) break;
    }
    writing = false;
    await writer;
    expect(written).toBeGreaterThan(0);
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort()).toEqual(seen);
    for (const id of before) expect(seen).toContain(id);
  });
});
