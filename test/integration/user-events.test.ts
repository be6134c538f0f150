// UserService's transactional outbox and its StreamUserEvents stream, against
// a real server on a real socket: every user has exactly one event, a stream
// replays from a position and then follows, bad positions are clear errors.
import { credentials, type ServiceError, status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeStatus } from '../../scripts/lib/decode-status.js';
import {
  type StreamUserEventsResponse,
  UserEventServiceClient,
} from '../../services/gen/shop/user/v1/events.pb.js';
import type { UserServiceClient } from '../../services/gen/shop/user/v1/user_service.pb.js';
import { unaryCall } from '../../services/shared/grpc/unary-call.js';
import { expectStatus } from '../support/rpc.js';
import { type Running, startUserService } from '../support/services.js';

let users: Running<UserServiceClient>;
let events: UserEventServiceClient;
beforeAll(async () => {
  users = await startUserService();
  events = new UserEventServiceClient(users.address, credentials.createInsecure());
});
afterAll(async () => {
  events.close();
  await users.stop();
});

let sequence = 0;
async function register(prefix = 'evt') {
  const username = `${prefix}${++sequence}`;
  const { user } = await unaryCall(users.client, 'createUser', {
    username,
    email: `${username}@example.com`,
    requestId: '',
  });
  return { id: user?.id ?? '', username };
}

/** The first `count` messages of a stream from `after`, then the stream is cancelled. */
function take(after: bigint, count: number, timeoutMs = 5000) {
  return new Promise<StreamUserEventsResponse[]>((resolve, reject) => {
    const got: StreamUserEventsResponse[] = [];
    const call = events.streamUserEvents({ afterPosition: after });
    const timer = setTimeout(() => {
      call.cancel();
      reject(new Error(`only ${got.length} of ${count} events within ${timeoutMs} ms`));
    }, timeoutMs);
    call.on('data', (message: StreamUserEventsResponse) => {
      got.push(message);
      if (got.length === count) {
        clearTimeout(timer);
        call.cancel();
        resolve(got);
      }
    });
    call.on('error', (error: ServiceError) => {
      if (error.code === status.CANCELLED && got.length === count) return;
      clearTimeout(timer);
      reject(error);
    });
  });
}

const latestPosition = async () =>
  BigInt(
    (await users.db.query<{ p: bigint | null }>('SELECT MAX(position) AS p FROM user_events'))[0]
      ?.p ?? 0,
  );

describe('the user outbox', () => {
  it('stores exactly one UserRegistered event per user, without the e-mail', async () => {
    const before = await latestPosition();
    const owner = await register();
    const [message] = await take(before, 1);
    expect(message?.position).toBeGreaterThan(before);
    expect(message?.event).toMatchObject({
      source: 'urn:shop:user-service',
      type: 'shop.user.v1.UserRegistered',
      subject: owner.id,
      userRegistered: { userId: owner.id, username: owner.username },
    });
    expect(message?.event?.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(
      JSON.stringify(message, (_k, v) => (typeof v === 'bigint' ? String(v) : v)),
    ).not.toContain('@example.com');
  });

  it('writes no event for a registration that fails, and never two for one user', async () => {
    const taken = await register();
    await expectStatus(
      unaryCall(users.client, 'createUser', {
        username: taken.username,
        email: 'someone.else@example.com',
        requestId: '',
      }),
      status.ALREADY_EXISTS,
    );
    // A retried request_id answers the first user, and stores nothing new.
    const request = { username: 'retried_evt', email: 'retried@example.com', requestId: 'evt-r1' };
    await unaryCall(users.client, 'createUser', request);
    await unaryCall(users.client, 'createUser', request);
    const [counts] = await users.db.query<{ users: bigint; events: bigint; subjects: bigint }>(
      `SELECT (SELECT COUNT(*) FROM users) AS users, (SELECT COUNT(*) FROM user_events) AS events,
              (SELECT COUNT(DISTINCT subject) FROM user_events WHERE subject IN (SELECT id FROM users)) AS subjects`,
    );
    expect(counts?.events).toBe(counts?.users);
    expect(counts?.subjects).toBe(counts?.users);
  });
});

describe('StreamUserEvents', () => {
  it('replays the events after a position, in order, then follows new ones', async () => {
    const start = await latestPosition();
    const first = await Promise.all([register(), register(), register()].map((p) => p));
    const all = await take(start, 3);
    const positions = all.map((m) => m.position);
    expect([...positions].sort((a, b) => (a < b ? -1 : 1))).toEqual(positions);
    expect(new Set(all.map((m) => m.event?.subject))).toEqual(new Set(first.map((u) => u.id)));

    // From the second one on: only the third, then one registered while the stream is open.
    const following = take(positions[1] ?? 0n, 2);
    await new Promise((r) => setTimeout(r, 200));
    const late = await register();
    const got = await following;
    expect(got[0]?.position).toBe(positions[2]);
    expect(got[1]?.event?.subject).toBe(late.id);
  });

  it('refuses a negative position with INVALID_ARGUMENT naming after_position', async () => {
    const failure = await expectStatus(take(-1n, 1), status.INVALID_ARGUMENT);
    expect(failure.badRequest?.fieldViolations.map((v) => v.field)).toEqual(['after_position']);
  });

  it('refuses a position this outbox never issued with OUT_OF_RANGE naming after_position', async () => {
    const failure = await expectStatus(
      take((await latestPosition()) + 1000n, 1),
      status.OUT_OF_RANGE,
    );
    expect(failure.badRequest?.fieldViolations.map((v) => v.field)).toEqual(['after_position']);
    expect(failure.errorInfo?.reason).toBe('POSITION_AHEAD');
  });

  it('ends open streams with UNAVAILABLE when the server shuts down, without waiting out the grace', async () => {
    const own = await startUserService({ shutdownGraceMs: 10_000 });
    const client = new UserEventServiceClient(own.address, credentials.createInsecure());
    try {
      const call = client.streamUserEvents({ afterPosition: 0n });
      const ended = new Promise<ServiceError>((resolve) => call.on('error', resolve));
      call.on('data', () => {});
      await new Promise((r) => setTimeout(r, 200));
      const started = Date.now();
      await own.stop();
      const error = await ended;
      expect(Date.now() - started).toBeLessThan(2000);
      expect(error.code).toBe(status.UNAVAILABLE);
      expect(decodeStatus(error).errorInfo?.reason).toBe('SHUTTING_DOWN');
    } finally {
      client.close();
    }
  });
});
