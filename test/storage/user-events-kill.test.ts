// SIGKILL during a burst of registrations, with the compiled services on
// PostgreSQL: UserService killed mid-burst leaves every stored user with
// exactly one event and every event with its user (the outbox is one
// transaction); ProductService killed while following the stream catches up
// after its restart, and its read model ends with every owner, applied once.
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  type ServiceProcess,
  spawnService,
  userClientOf,
} from '../../scripts/lib/spawn-service.js';
import { unaryCall } from '../../services/shared/grpc/unary-call.js';
import { type PostgresServer, type ServiceDatabase, startPostgres } from '../support/postgres.js';

let server: PostgresServer;
let usersDb: ServiceDatabase;
let productsDb: ServiceDatabase;
const running: ServiceProcess[] = [];

beforeAll(async () => {
  server = await startPostgres();
  usersDb = await server.createDatabase('users');
  productsDb = await server.createDatabase('products');
});
afterAll(async () => {
  for (const p of running) await p.stop('SIGKILL').catch(() => {});
  await server?.close();
});

const startUser = async (port?: number) => {
  const p = await spawnService('user', {
    env: { DATABASE_URL: usersDb.url },
    telemetry: false,
    ...(port ? { port } : {}),
  });
  running.push(p);
  return p;
};
const startProduct = async (userAddress: string) => {
  const p = await spawnService('product', {
    env: { DATABASE_URL: productsDb.url, USER_SERVICE_ADDRESS: userAddress },
    telemetry: false,
  });
  running.push(p);
  return p;
};

async function query<Row extends object>(url: string, sql: string): Promise<Row[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<Row>(sql)).rows;
  } finally {
    await client.end();
  }
}

/** Registers users from `workers` loops until the process dies; returns how many were acknowledged. */
async function burst(user: ServiceProcess, workers: number, prefix: string) {
  const client = userClientOf(user);
  let acknowledged = 0;
  let stop = false;
  const loops = Array.from({ length: workers }, async (_, w) => {
    for (let i = 0; !stop; i++) {
      const username = `${prefix}${w}_${i}`;
      try {
        await unaryCall(
          client,
          'createUser',
          { username, email: `${username}@example.com`, requestId: '' },
          { deadline: Date.now() + 2000 },
        );
        acknowledged++;
      } catch {
        stop = true;
      }
    }
  });
  return {
    done: Promise.all(loops).then(() => {
      client.close();
      return acknowledged;
    }),
  };
}

it('loses no event and applies none twice when UserService and ProductService are killed mid-stream', async () => {
  let user = await startUser();
  let product = await startProduct(user.address);
  await product.waitForLog((l) => l.msg === 'following user events');

  // Round 1: ProductService killed while it follows a burst.
  const first = await burst(user, 6, 'a');
  await sleep(700);
  await product.stop('SIGKILL');
  await sleep(300);
  // Round 2: UserService killed mid-burst.
  await user.stop('SIGKILL');
  const acknowledged = await first.done;

  const killedProduct = product;
  user = await startUser(user.port);
  product = await startProduct(user.address);
  const counts = (
    await query<{ users: string; events: string; matched: string; orphans: string; max: string }>(
      usersDb.url,
      `SELECT (SELECT COUNT(*) FROM user_service.users) AS users,
              (SELECT COUNT(*) FROM user_service.user_events) AS events,
              (SELECT COUNT(*) FROM user_service.users u
                WHERE (SELECT COUNT(*) FROM user_service.user_events e WHERE e.subject = u.id) = 1) AS matched,
              (SELECT COUNT(*) FROM user_service.user_events e
                WHERE NOT EXISTS (SELECT 1 FROM user_service.users u WHERE u.id = e.subject)) AS orphans,
              (SELECT COALESCE(MAX(position), 0) FROM user_service.user_events) AS max`,
    )
  )[0];
  const stored = Number(counts?.users);
  expect(stored).toBeGreaterThanOrEqual(acknowledged);
  expect(Number(counts?.events)).toBe(stored);
  expect(Number(counts?.matched)).toBe(stored);
  expect(Number(counts?.orphans)).toBe(0);

  // The restarted consumer catches up to the last position, with every owner once.
  const target = BigInt(counts?.max ?? 0);
  for (let waited = 0; ; waited += 100) {
    const [row] = await query<{ position: string }>(
      productsDb.url,
      'SELECT position FROM product_service.event_positions',
    );
    if (row && BigInt(row.position) >= target) break;
    if (waited > 15_000) throw new Error(`consumer not at ${target} after 15 s`);
    await sleep(100);
  }
  const [owners] = await query<{ owners: string }>(
    productsDb.url,
    'SELECT COUNT(*) AS owners FROM product_service.owners',
  );
  expect(Number(owners?.owners)).toBe(stored);
  const applied = (p: ServiceProcess) =>
    p.logs
      .filter((l) => l.msg === 'user events applied')
      .reduce((sum, l) => sum + Number(l.applied), 0);
  const appliedBeforeKill = applied(killedProduct);
  const appliedAfterRestart = applied(product);
  // A batch committed just before the kill may have lost its log line, never the reverse:
  // more applied than stored would be an event applied twice.
  expect(appliedBeforeKill + appliedAfterRestart).toBeLessThanOrEqual(stored);
  expect(appliedBeforeKill).toBeGreaterThan(0);
  console.info(
    `kill -9: ${acknowledged} registrations acknowledged, ${stored} users stored, ${counts?.events} events ` +
      `(0 lost, 0 orphaned); ProductService killed and restarted: ${owners?.owners} owners, ` +
      `${appliedBeforeKill} events applied before the kill (as logged), ${appliedAfterRestart} after the restart, 0 twice`,
  );
}, 90_000);
