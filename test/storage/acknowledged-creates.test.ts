// Nothing acknowledged is lost to a crash, with group commit
// (services/shared/sql/group-commit.ts) on SQLite, the store `npm start`
// uses: the compiled UserService takes 50 concurrent CreateUser calls at a
// time, is killed with SIGKILL mid-burst, and is started again on the same
// data folder. Every user it acknowledged must be there, each with its one
// registration event in the outbox; calls that failed may or may not have
// committed (the kill came between commit and answer), but none twice.
// PostgreSQL's kill test is in user-events-transports.test.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { spawnService, userClientOf } from '../../scripts/lib/spawn-service.js';
import type { User } from '../../services/gen/shop/user/v1/user_service.pb.js';
import { unaryCall } from '../../services/shared/grpc/unary-call.js';
import { createSqliteClient } from '../../services/shared/sql/sqlite-client.js';

const dataDir = mkdtempSync(join(tmpdir(), 'acknowledged-creates-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

it('keeps every user acknowledged before a SIGKILL, each with one event', async () => {
  const env = { DATA_DIR: dataDir };
  const first = await spawnService('user', { env, telemetry: false });
  const client = userClientOf(first);
  const acknowledged: User[] = [];
  let failed = 0;
  let sent = 0;
  let killed = false;
  // 50 callers, each creating users one after another until the process dies.
  const caller = async () => {
    while (!killed) {
      const n = sent++;
      try {
        const { user } = await unaryCall(client, 'createUser', {
          username: `durable_${n}`,
          email: `durable.${n}@example.com`,
          requestId: '',
        });
        if (user) acknowledged.push(user);
      } catch {
        failed += 1;
      }
    }
  };
  const callers = Array.from({ length: 50 }, caller);
  // Mid-burst: after enough acknowledgements that batches of many are committing.
  while (acknowledged.length < 400) await new Promise((resolve) => setTimeout(resolve, 5));
  killed = true;
  first.process.kill('SIGKILL');
  await first.exited;
  await Promise.all(callers);
  client.close();
  console.log(`acknowledged ${acknowledged.length}, failed ${failed} of ${sent} sent`);

  const db = createSqliteClient(join(dataDir, 'user-service.sqlite'));
  try {
    const users = await db.query<{ id: string }>('SELECT id FROM users');
    const events = await db.query<{ subject: string }>('SELECT subject FROM user_events');
    const stored = new Set(users.map((u) => u.id));
    console.log(`stored ${stored.size} users, ${events.length} events`);
    const missing = acknowledged.filter((u) => !stored.has(u.id)).map((u) => u.username);
    expect(missing, 'acknowledged but not stored').toEqual([]);
    // Each stored user has exactly one event, and no event is without its user.
    expect(events.map((e) => e.subject).sort()).toEqual([...stored].sort());
    // At most the 50 calls in flight at the kill were committed unanswered.
    expect(stored.size - acknowledged.length).toBeLessThanOrEqual(50);
  } finally {
    await db.close();
  }

  // And the restarted service serves them.
  const second = await spawnService('user', { env, telemetry: false });
  const again = userClientOf(second);
  try {
    const last = acknowledged.at(-1);
    const { user } = await unaryCall(again, 'getUser', { id: last?.id ?? '' });
    expect(user?.username).toBe(last?.username);
  } finally {
    again.close();
    await second.stop();
  }
}, 120_000);
