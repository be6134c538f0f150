// Both event transports, with the compiled services on PostgreSQL and, for
// Kafka, a real broker (test/support/kafka.ts): the embedded gRPC stream and
// the Kafka relay and consumer go through the same story.
// - SIGKILL during a burst of registrations: ProductService (the consumer)
//   killed while it follows, then UserService (the outbox, and the relay)
//   killed mid-burst. Every stored user has exactly one event and every event
//   its user; after both restart, the read model holds every owner, and no
//   event was applied twice (the applied counts never exceed the events).
// - ProductService stopped while users register catches up after restart.
// - UserService down: ListProducts answers with every replicated owner
//   (OWNER_RESOLUTION_COMPLETE) from the read model alone.
// - The propagation latency, registration to apply commit, p50 and p99.
// On Kafka also: the records follow the CloudEvents Kafka binding (binary
// mode) and decode with the generated code, and no event is missing on the
// topic.
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type PostgresServer,
  type ServiceDatabase,
  startPostgres,
} from '../../scripts/lib/postgres-server.js';
import {
  productClientOf,
  type ServiceProcess,
  spawnService,
  userClientOf,
} from '../../scripts/lib/spawn-service.js';
import { OwnerResolution } from '../../services/gen/shop/product/v1/product_service.pb.js';
import { UserRegistered } from '../../services/gen/shop/user/v1/events.pb.js';
import { kafkaStreamOf } from '../../services/product/kafka-user-event-transport.js';
import { USER_EVENTS_TOPIC } from '../../services/shared/events/kafka-binding.js';
import { unaryCall } from '../../services/shared/grpc/unary-call.js';
import { type KafkaBroker, readTopic, startKafka } from '../support/kafka.js';

let server: PostgresServer;
let kafka: KafkaBroker;
beforeAll(async () => {
  [server, kafka] = await Promise.all([startPostgres(), startKafka({ partitions: 3 })]);
});
afterAll(async () => {
  await server?.close();
  await kafka?.close();
});

async function query<Row extends object>(url: string, sql: string): Promise<Row[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<Row>(sql)).rows;
  } finally {
    await client.end();
  }
}

/** Registers users from `workers` loops until the process dies; resolves with how many were acknowledged. */
function burst(user: ServiceProcess, workers: number, prefix: string): Promise<number> {
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
  return Promise.all(loops).then(() => {
    client.close();
    return acknowledged;
  });
}

const appliedBy = (p: ServiceProcess) =>
  p.logs
    .filter((l) => l.msg === 'user events applied')
    .reduce((sum, l) => sum + Number(l.applied), 0);

const skippedBy = (p: ServiceProcess) =>
  p.logs
    .filter((l) => l.msg === 'user events applied')
    .reduce((sum, l) => sum + Number(l.skipped), 0);

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;

const transports = [
  { name: 'grpc', env: () => ({}) },
  { name: 'kafka', env: () => ({ KAFKA_BROKERS: kafka.bootstrap }) },
] as const;

describe.each(transports)('the $name transport', (transport) => {
  let usersDb: ServiceDatabase;
  let productsDb: ServiceDatabase;
  const running: ServiceProcess[] = [];
  beforeAll(async () => {
    usersDb = await server.createDatabase(`users_${transport.name}`);
    productsDb = await server.createDatabase(`products_${transport.name}`);
  });
  afterAll(async () => {
    for (const p of running) await p.stop('SIGKILL').catch(() => {});
  });

  const startUser = async (port?: number) => {
    const p = await spawnService('user', {
      env: { DATABASE_URL: usersDb.url, ...transport.env() },
      telemetry: false,
      ...(port ? { port } : {}),
    });
    running.push(p);
    return p;
  };
  const startProduct = async (userAddress: string) => {
    const p = await spawnService('product', {
      env: { DATABASE_URL: productsDb.url, USER_SERVICE_ADDRESS: userAddress, ...transport.env() },
      telemetry: false,
    });
    running.push(p);
    await p.waitForLog((l) => l.msg === 'following user events', 30_000);
    return p;
  };
  const outbox = async () =>
    (
      await query<{ users: string; events: string; matched: string; orphans: string }>(
        usersDb.url,
        `SELECT (SELECT COUNT(*) FROM user_service.users) AS users,
                (SELECT COUNT(*) FROM user_service.user_events) AS events,
                (SELECT COUNT(*) FROM user_service.users u
                  WHERE (SELECT COUNT(*) FROM user_service.user_events e WHERE e.subject = u.id) = 1) AS matched,
                (SELECT COUNT(*) FROM user_service.user_events e
                  WHERE NOT EXISTS (SELECT 1 FROM user_service.users u WHERE u.id = e.subject)) AS orphans`,
      )
    )[0];
  const ownerCount = async () =>
    Number(
      (
        await query<{ n: string }>(
          productsDb.url,
          'SELECT COUNT(*) AS n FROM product_service.owners',
        )
      )[0]?.n,
    );
  const waitForOwners = async (count: number, timeoutMs = 30_000) => {
    for (const started = Date.now(); ; ) {
      const owners = await ownerCount();
      if (owners >= count) return owners;
      if (Date.now() - started > timeoutMs) {
        throw new Error(`read model holds ${owners} owners, not ${count}, after ${timeoutMs} ms`);
      }
      await sleep(100);
    }
  };

  let user: ServiceProcess;
  let product: ServiceProcess;
  let stored = 0;

  it('loses no event and applies none twice when the consumer and the producer are killed mid-stream', async () => {
    user = await startUser();
    product = await startProduct(user.address);

    // Round 1: ProductService killed while it follows a burst, once it applied
    // some (a Kafka consumer first joins its group: a fixed delay raced that).
    const first = burst(user, 6, 'a');
    await vi.waitFor(() => expect(appliedBy(product)).toBeGreaterThan(0), {
      timeout: 20_000,
      interval: 50,
    });
    await sleep(300);
    await product.stop('SIGKILL');
    await sleep(300);
    // Round 2: UserService (the outbox, and the relay) killed mid-burst.
    await user.stop('SIGKILL');
    const acknowledged = await first;

    const killedProduct = product;
    user = await startUser(user.port);
    product = await startProduct(user.address);
    const counts = await outbox();
    stored = Number(counts?.users);
    expect(stored).toBeGreaterThanOrEqual(acknowledged);
    expect(Number(counts?.events)).toBe(stored);
    expect(Number(counts?.matched)).toBe(stored);
    expect(Number(counts?.orphans)).toBe(0);

    // The restarted consumer catches up, with every owner once.
    expect(await waitForOwners(stored)).toBe(stored);
    const appliedBeforeKill = appliedBy(killedProduct);
    const appliedAfterRestart = appliedBy(product);
    expect(appliedBeforeKill).toBeGreaterThan(0);
    // A batch committed just before the kill may have lost its log line, never the reverse:
    // more applied than stored would be an event applied twice.
    expect(appliedBeforeKill + appliedAfterRestart).toBeLessThanOrEqual(stored);
    let onTopic = '';
    if (transport.name === 'kafka') {
      // Nothing lost on the way: every event is on the topic (a relay killed
      // after the broker's acknowledgement sends a batch again: copies allowed).
      const records = await readTopic(kafka.bootstrap, USER_EVENTS_TOPIC, { atLeast: stored });
      const ids = new Set(records.map((r) => headerOf(r, 'ce_id')));
      expect(ids.has(undefined)).toBe(false);
      expect(ids.size).toBe(stored);
      onTopic = `, ${records.length} records on the topic (${records.length - stored} sent twice by the killed relay)`;
    }
    console.info(
      `${transport.name}, kill -9: ${acknowledged} registrations acknowledged, ${stored} users stored, ${counts?.events} events ` +
        `(0 lost, 0 orphaned)${onTopic}; the consumer killed and restarted: ${await ownerCount()} owners, ` +
        `${appliedBeforeKill} events applied before the kill (as logged), ${appliedAfterRestart} after, 0 twice`,
    );
  }, 120_000);

  it('catches up after ProductService was stopped while users registered', async () => {
    await product.stop('SIGTERM');
    const client = userClientOf(user);
    for (let i = 0; i < 40; i++) {
      await unaryCall(client, 'createUser', {
        username: `offline_${i}`,
        email: `offline_${i}@example.com`,
        requestId: '',
      });
    }
    client.close();
    stored += 40;
    product = await startProduct(user.address);
    expect(await waitForOwners(stored)).toBe(stored);
    if (transport.name === 'kafka') {
      // One position per partition: each at most the outbox's latest position.
      const positions = await query<{ stream: string }>(
        productsDb.url,
        'SELECT stream FROM product_service.event_positions ORDER BY stream',
      );
      expect(positions.map((p) => p.stream)).toEqual(
        [0, 1, 2].map((partition) => kafkaStreamOf(USER_EVENTS_TOPIC, partition)),
      );
    }
  }, 60_000);

  it('lists products with their owners while UserService is down', async () => {
    const users = userClientOf(user);
    const products = productClientOf(product);
    const owners = [];
    for (let i = 0; i < 5; i++) {
      const { user: owner } = await unaryCall(users, 'createUser', {
        username: `lister_${i}`,
        email: `lister_${i}@example.com`,
        requestId: '',
      });
      owners.push(owner);
      await unaryCall(products, 'createProduct', {
        name: `Lamp ${i}`,
        ownerId: owner?.id ?? '',
        price: { currencyCode: 'EUR', units: 10n, nanos: 0 },
        requestId: '',
      });
    }
    users.close();
    stored += 5;
    await waitForOwners(stored);
    await user.stop('SIGTERM');
    const page = await unaryCall(products, 'listProducts', {
      pageSize: 50,
      pageToken: '',
      ownerId: '',
    });
    products.close();
    expect(page.ownerResolution).toBe(OwnerResolution.OWNER_RESOLUTION_COMPLETE);
    expect(page.products.map((p) => p.owner?.username).sort()).toEqual(
      owners.map((o) => o?.username).sort(),
    );
    user = await startUser(user.port);
  }, 60_000);

  if (transport.name === 'kafka') {
    it('skips every event the relay sends again (its position rewound, as by a restored backup)', async () => {
      const owners = await ownerCount();
      const before = await readTopic(kafka.bootstrap, USER_EVENTS_TOPIC, { atLeast: stored });
      const appliedBefore = appliedBy(product);
      const skippedBefore = skippedBy(product);
      await query(usersDb.url, 'UPDATE user_service.event_relays SET position = 0');
      // Wake the relay with one new registration: it sends the whole outbox again.
      const client = userClientOf(user);
      await unaryCall(client, 'createUser', {
        username: 'rewound',
        email: 'rewound@example.com',
        requestId: '',
      });
      client.close();
      stored += 1;
      const after = await readTopic(kafka.bootstrap, USER_EVENTS_TOPIC, {
        atLeast: before.length + stored,
      });
      await waitForOwners(stored);
      for (let waited = 0; skippedBy(product) - skippedBefore < stored - 1; waited += 100) {
        if (waited > 20_000) throw new Error(`skipped ${skippedBy(product) - skippedBefore}`);
        await sleep(100);
      }
      expect(await ownerCount()).toBe(owners + 1);
      // Only the new registration was applied; every copy was recognised by its sequence.
      expect(appliedBy(product) - appliedBefore).toBe(1);
      expect(skippedBy(product) - skippedBefore).toBe(stored - 1);
      console.info(
        `kafka, relay rewound: ${after.length - before.length} records sent again, ` +
          `${skippedBy(product) - skippedBefore} skipped, ${appliedBy(product) - appliedBefore} applied (the new one)`,
      );
    }, 60_000);
  }

  it('measures the propagation latency, registration to apply commit', async () => {
    const client = userClientOf(user);
    const applied = (l: { msg: string; applied?: unknown }) =>
      l.msg === 'user events applied' && Number(l.applied) > 0;
    // Each registration's own line: the first applied line after those already written.
    const seen = new WeakSet<object>(product.logs.filter(applied));
    const delays: number[] = [];
    for (let i = 0; i < 60; i++) {
      await unaryCall(client, 'createUser', {
        username: `latency_${i}`,
        email: `latency_${i}@example.com`,
        requestId: '',
      });
      const line = await product.waitForLog((l) => applied(l) && !seen.has(l), 10_000);
      seen.add(line);
      // lag_ms: from the event's time (the registration) to the apply commit.
      delays.push(Number(line.lag_ms));
    }
    client.close();
    delays.sort((a, b) => a - b);
    const [p50, p99] = [percentile(delays, 50), percentile(delays, 99)];
    expect(delays.every(Number.isFinite)).toBe(true);
    console.info(
      `${transport.name}: propagation, registration to apply commit (60 sequential registrations): p50 ${p50} ms, p99 ${p99} ms`,
    );
  }, 60_000);
});

/** A record's header as text. */
function headerOf(record: { headers: Map<Buffer, Buffer> }, name: string): string | undefined {
  for (const [key, value] of record.headers) if (key.toString() === name) return value.toString();
  return undefined;
}

it('publishes CloudEvents in Kafka binary mode, decodable with the generated code', async () => {
  const records = await readTopic(kafka.bootstrap, USER_EVENTS_TOPIC, { atLeast: 1 });
  const record = records.find((r) => headerOf(r, 'ce_type') === 'shop.user.v1.UserRegistered');
  expect(record).toBeDefined();
  if (!record) return;
  const registered = UserRegistered.decode(record.value);
  expect(record.key.toString()).toBe(registered.userId);
  expect(headerOf(record, 'ce_specversion')).toBe('1.0');
  expect(headerOf(record, 'ce_source')).toBe('urn:shop:user-service');
  expect(headerOf(record, 'ce_subject')).toBe(registered.userId);
  expect(headerOf(record, 'ce_id')).toMatch(/^[0-9a-f-]{36}$/);
  expect(headerOf(record, 'ce_sequence')).toMatch(/^\d{19}$/);
  expect(new Date(headerOf(record, 'ce_time') ?? '').getTime()).toBe(
    registered.createTime?.getTime(),
  );
  expect(headerOf(record, 'content-type')).toBe('application/protobuf');
  // No personal data beyond what consumers may keep: the e-mail is nowhere in the record.
  const bytes = Buffer.concat([record.value, ...[...record.headers.values()]]).toString('latin1');
  expect(bytes).not.toMatch(/@example\.com/);
  // Per partition, every user's events are in order: first copies in increasing sequence.
  const byPartition = new Map<number, bigint[]>();
  for (const r of records) {
    const list = byPartition.get(r.partition) ?? [];
    list.push(BigInt(headerOf(r, 'ce_sequence') ?? '0'));
    byPartition.set(r.partition, list);
  }
  for (const sequences of byPartition.values()) {
    const seen = new Set<bigint>();
    let highest = 0n;
    for (const s of sequences) {
      if (!seen.has(s)) {
        expect(s).toBeGreaterThan(highest);
        highest = s;
        seen.add(s);
      }
    }
  }
  expect(byPartition.size).toBe(3);
}, 60_000);
