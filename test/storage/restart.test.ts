// The database goes away under the services, which are real processes from
// dist/: restarted cleanly, crashed, and down before a service starts. The
// services must neither exit nor answer INTERNAL: callers see UNAVAILABLE
// (which they and the mesh retry) until the database is back, then they are
// served again without any service restart, and no acknowledged write is lost.
// Needs a private cluster to stop and start, whatever TEST_DATABASE_URL says.

import { setTimeout as sleep } from 'node:timers/promises';
import { type ServiceError, status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type PostgresServer,
  type ServiceDatabase,
  startPostgres,
} from '../../scripts/lib/postgres-server.js';
import {
  productClientOf,
  type ServiceProcess,
  ServingStatus,
  spawnService,
  userClientOf,
} from '../../scripts/lib/spawn-service.js';
import type { ProductServiceClient } from '../../services/gen/shop/product/v1/product_service.pb.js';
import type { UserServiceClient } from '../../services/gen/shop/user/v1/user_service.pb.js';
import { unaryCall } from '../../services/shared/grpc/unary-call.js';
import { deadlineIn } from '../support/rpc.js';

/** Retries one create with the same request_id until it succeeds, as a client would. */
async function untilDone<T>(attempt: () => Promise<T>, codes: number[], deadline: number) {
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      codes.push((error as ServiceError).code);
      if (Date.now() > deadline) throw error;
      await sleep(100);
    }
  }
}

describe('the database restarting under load', () => {
  let server: PostgresServer;
  let usersDb: ServiceDatabase;
  let productsDb: ServiceDatabase;
  let userService: ServiceProcess;
  let productService: ServiceProcess;
  let users: UserServiceClient;
  let products: ProductServiceClient;
  let ownerId = '';

  beforeAll(async () => {
    server = await startPostgres({ private: true });
    usersDb = await server.createDatabase('users');
    productsDb = await server.createDatabase('products');
    userService = await spawnService('user', {
      env: { DATABASE_URL: usersDb.url },
      telemetry: false,
      wait: false,
    });
    productService = await spawnService('product', {
      env: {
        DATABASE_URL: productsDb.url,
        USER_SERVICE_ADDRESS: userService.address,
      },
      telemetry: false,
      wait: false,
    });
    await Promise.all([userService.waitServing(), productService.waitServing()]);
    users = userClientOf(userService);
    products = productClientOf(productService);
    const owner = await unaryCall(
      users,
      'createUser',
      {
        username: 'owner',
        email: 'owner@example.com',
        requestId: '',
      },
      deadlineIn(10_000),
    );
    ownerId = owner.user?.id ?? '';
  });

  afterAll(async () => {
    users?.close();
    products?.close();
    const codes = await Promise.all([userService?.stop(), productService?.stop()]);
    await server?.close();
    expect(codes).toEqual([0, 0]);
  });

  it.each(['fast', 'immediate'] as const)(
    'recovers from a %s shutdown of the database under load without a service restart',
    async (mode) => {
      const pids = [userService.pid, productService.pid];
      const codes: number[] = [];
      const deadline = Date.now() + 60_000;
      const acknowledged = {
        users: new Map<string, string>(),
        products: new Map<string, string>(),
      };
      let stopLoad = false;
      const worker = async (w: number) => {
        for (let n = 0; n < 200 && !stopLoad; n++) {
          const key = `${mode}-${w}-${n}`;
          if (w % 2 === 0) {
            const { user } = await untilDone(
              () =>
                unaryCall(
                  users,
                  'createUser',
                  { username: `l${key}`, email: `${key}@example.com`, requestId: key },
                  deadlineIn(2000),
                ),
              codes,
              deadline,
            );
            acknowledged.users.set(key, user?.id ?? '');
          } else {
            const { product } = await untilDone(
              () =>
                unaryCall(
                  products,
                  'createProduct',
                  {
                    name: `Load ${key}`,
                    ownerId,
                    price: { currencyCode: 'EUR', units: 1n, nanos: 0 },
                    requestId: key,
                  },
                  deadlineIn(2000),
                ),
              codes,
              deadline,
            );
            acknowledged.products.set(key, product?.id ?? '');
          }
        }
      };
      const load = Promise.all([0, 1, 2, 3].map(worker));

      // Under load, take the database away for a while, then bring it back.
      while (acknowledged.users.size + acknowledged.products.size < 20) await sleep(20);
      await server.stop(mode);
      await sleep(1500);
      const during = acknowledged.users.size + acknowledged.products.size;
      await server.start();
      // Let the load run on after recovery, then stop it.
      while (acknowledged.users.size + acknowledged.products.size < during + 40) await sleep(50);
      stopLoad = true;
      await load;

      expect(codes).toContain(status.UNAVAILABLE);
      // Outages reach callers as retryable statuses, never INTERNAL or UNKNOWN.
      expect(new Set(codes)).toEqual(
        new Set(codes.filter((c) => c === status.UNAVAILABLE || c === status.DEADLINE_EXCEEDED)),
      );
      expect([userService.pid, productService.pid]).toEqual(pids);
      expect(userService.running && productService.running).toBe(true);
      expect(await userService.health()).toBe(ServingStatus.SERVING);
      expect(await productService.health()).toBe(ServingStatus.SERVING);

      // Every acknowledged create is stored, once, under the id it was acknowledged with.
      for (const [key, id] of acknowledged.users) {
        const { user } = await unaryCall(users, 'getUser', { id }, deadlineIn(10_000));
        expect(user?.username).toBe(`l${key}`);
        const replay = await unaryCall(
          users,
          'createUser',
          {
            username: `l${key}`,
            email: `${key}@example.com`,
            requestId: key,
          },
          deadlineIn(10_000),
        );
        expect(replay.user?.id).toBe(id);
      }
      for (const [, id] of acknowledged.products) {
        const { product } = await unaryCall(products, 'getProduct', { id }, deadlineIn(10_000));
        expect(product?.id).toBe(id);
      }
      // Retries whose first attempt did commit created nothing twice.
      const stored: string[] = [];
      let pageToken = '';
      do {
        const page = await unaryCall(
          users,
          'listUsers',
          { pageSize: 100, pageToken },
          deadlineIn(10_000),
        );
        stored.push(
          ...page.users.filter((u) => u.username.startsWith(`l${mode}-`)).map((u) => u.id),
        );
        pageToken = page.nextPageToken;
      } while (pageToken);
      expect(stored.sort()).toEqual([...acknowledged.users.values()].sort());
    },
  );

  it('stays up and NOT_SERVING while the database is down at start, then serves', async () => {
    await server.stop('fast');
    const late = await spawnService('user', {
      env: { DATABASE_URL: usersDb.url },
      telemetry: false,
      wait: false,
    });
    try {
      const line = await late.waitForLog((l) => l.msg === 'not ready, retrying');
      expect(line.level).toBe('error');
      // Says what is missing and why, whether or not pino's err serializer flattens the cause.
      expect(JSON.stringify(line.err)).toContain('the database is unavailable');
      expect(JSON.stringify(line.err)).toContain('ECONNREFUSED');
      // One clear line, not a stack trace, and nothing that quotes the credentials.
      expect(JSON.stringify(line)).not.toContain('    at ');
      expect(JSON.stringify(line)).not.toContain(usersDb.password);
      expect(await late.health()).toBe(ServingStatus.NOT_SERVING);
      await late.waitForLog((l) => l.msg === 'not ready, retrying' && l.attempt === 2);
      expect(late.running).toBe(true);
      expect(late.logs.filter((l) => l.level === 'fatal')).toEqual([]);

      await server.start();
      await late.waitServing(30_000);
      const client = userClientOf(late);
      const { users: page } = await unaryCall(
        client,
        'listUsers',
        {
          pageSize: 1,
          pageToken: '',
        },
        deadlineIn(10_000),
      );
      client.close();
      expect(page).toHaveLength(1);
    } finally {
      expect(await late.stop()).toBe(0);
    }
  });
});
