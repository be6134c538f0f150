// Issue 14, bug 2, in process: the limits only a view of every call can
// enforce (see preHandlerFailureInterceptor), on a server built with small
// ones so the test takes milliseconds.
import { connect, constants } from 'node:http2';
import { setTimeout as sleep } from 'node:timers/promises';
import { credentials, status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  UserServiceClient,
  UserServiceService,
} from '../../services/gen/shop/user/v1/user_service.pb.js';
import { newId } from '../../services/shared/api/ids.js';
import type { GrpcServer } from '../../services/shared/grpc/grpc-server.js';
import { ServingStatus } from '../../services/shared/grpc/health.js';
import { defaultServerLimits } from '../../services/shared/grpc/server-limits.js';
import { unaryCall } from '../../services/shared/grpc/unary-call.js';
import { silentLogger } from '../../services/shared/process/logger.js';
import type { SqlClient } from '../../services/shared/sql/sql-client.js';
import { createSqliteClient } from '../../services/shared/sql/sqlite-client.js';
import { userMigrations } from '../../services/user/migrations.js';
import { createUserServer } from '../../services/user/server.js';
import { createSqlUserStore } from '../../services/user/sql-store.js';
import { openStream } from '../support/raw-grpc.js';
import { expectStatus } from '../support/rpc.js';

let db: SqlClient;
let server: GrpcServer;
let address = '';
beforeAll(async () => {
  db = createSqliteClient(':memory:');
  await db.migrate(userMigrations);
  server = createUserServer(
    {
      host: '127.0.0.1',
      port: 0,
      shutdownGraceMs: 100,
      limits: { ...defaultServerLimits, requestReceiveTimeoutMs: 300, maxConcurrentCalls: 5 },
    },
    { store: createSqlUserStore(db), log: silentLogger },
  );
  address = `127.0.0.1:${await server.listen()}`;
  server.health.set(ServingStatus.SERVING);
});
afterAll(async () => {
  server.forceShutdown();
  await db.close();
});

/** Opens `count` GetUser streams that send their headers and never a message; resolves with each one's grpc-status and ms. */
async function halfSent(count: number) {
  const session = connect(`http://${address}`);
  session.on('error', () => {});
  const started = performance.now();
  const answers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<{ code: number; ms: number }>((resolve) => {
          const stream = openStream(session, UserServiceService.getUser.path);
          const answer = (headers: Record<string, unknown>) => {
            if (headers['grpc-status'] !== undefined) {
              resolve({ code: Number(headers['grpc-status']), ms: performance.now() - started });
            }
          };
          stream.on('response', answer);
          stream.on('trailers', answer);
        }),
    ),
  );
  session.destroy();
  return answers;
}

describe('server limits on calls', () => {
  it('answers a request that never arrives DEADLINE_EXCEEDED after the receive timeout', async () => {
    const [answer] = await halfSent(1);
    expect(status[answer?.code ?? -1]).toBe('DEADLINE_EXCEEDED');
    expect(answer?.ms).toBeGreaterThanOrEqual(250);
    expect(answer?.ms).toBeLessThan(2000);
  });

  it('answers calls over the process-wide cap RESOURCE_EXHAUSTED at once', async () => {
    const answers = await halfSent(8);
    const exhausted = answers.filter((a) => a.code === status.RESOURCE_EXHAUSTED);
    expect(exhausted).toHaveLength(3);
    for (const a of exhausted) expect(a.ms).toBeLessThan(200);
    expect(answers.filter((a) => a.code === status.DEADLINE_EXCEEDED)).toHaveLength(5);
  });

  it('counts every call that ended, however it ended, so the cap never fills up with ghosts', async () => {
    const session = connect(`http://${address}`);
    session.on('error', () => {});
    for (let i = 0; i < 50; i++) {
      const stream = session.request({
        ':method': 'POST',
        ':path': UserServiceService.getUser.path,
        'content-type': 'application/grpc',
      });
      stream.on('error', () => {});
      stream.close(constants.NGHTTP2_CANCEL);
    }
    await sleep(100);
    session.destroy();
    await sleep(100);
    const client = new UserServiceClient(address, credentials.createInsecure());
    for (let i = 0; i < 10; i++) {
      await expectStatus(unaryCall(client, 'getUser', { id: newId() }), status.NOT_FOUND);
    }
    await Promise.all(
      Array.from({ length: 5 }, () =>
        expectStatus(unaryCall(client, 'getUser', { id: newId() }), status.NOT_FOUND),
      ),
    );
    client.close();
  });
});
