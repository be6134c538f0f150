// Issue 14, bug 3: calls grpc-js answers itself, before any handler runs (a
// grpc-timeout that does not parse, a message that does not decompress, an
// encoding it does not support), must show in the service's own log: once
// per reason, rate limited, not once per call and not never.
import type { ClientHttp2Session } from 'node:http2';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GetUserRequest,
  type UserServiceClient,
  UserServiceService,
} from '../../services/gen/shop/user/v1/user_service.pb.js';
import { newId } from '../../services/shared/api/ids.js';
import { createLogger } from '../../services/shared/process/logger.js';
import { grpcFrame, openRawSession, rawUnary } from '../support/raw-grpc.js';
import { type Running, startUserService } from '../support/services.js';

const lines: Record<string, unknown>[] = [];
const log = createLogger({
  service: 'user-service',
  destination: { write: (line: string) => void lines.push(JSON.parse(line)) },
});
let users: Running<UserServiceClient>;
let session: ClientHttp2Session;
beforeAll(async () => {
  users = await startUserService({ log });
  session = openRawSession(users.address);
});
afterAll(async () => {
  session.close();
  await users.stop();
});

const getUser = GetUserRequest.encode({ id: newId() }).finish();
const failures: { reason: string; code: status; body: Buffer; headers: Record<string, string> }[] =
  [
    {
      reason: 'INVALID_GRPC_TIMEOUT',
      code: status.INTERNAL,
      body: grpcFrame(getUser),
      headers: { 'grpc-timeout': 'abc' },
    },
    {
      reason: 'INVALID_GRPC_TIMEOUT',
      code: status.INTERNAL,
      body: grpcFrame(getUser),
      headers: { 'grpc-timeout': '' },
    },
    {
      reason: 'UNDECOMPRESSIBLE_MESSAGE',
      code: status.INTERNAL,
      body: grpcFrame(Buffer.from('not gzip at all'), { compressed: true }),
      headers: { 'grpc-encoding': 'gzip' },
    },
    {
      reason: 'UNSUPPORTED_ENCODING',
      code: status.UNIMPLEMENTED,
      body: grpcFrame(getUser, { compressed: true }),
      headers: { 'grpc-encoding': 'snappy' },
    },
  ];

describe('failures before any handler', () => {
  it('answers each with grpc-js’s status and logs one line per reason, however many calls', async () => {
    for (const failure of failures) {
      for (let i = 0; i < 50; i++) {
        const answer = await rawUnary(session, UserServiceService.getUser.path, failure.body, {
          headers: failure.headers,
        });
        expect(status[answer.grpcStatus ?? -1], answer.grpcMessage).toBe(status[failure.code]);
      }
    }
    const warnings = lines.filter((l) => l.msg === 'call failed before reaching a handler');
    expect(warnings.map((l) => [l.reason, l.code, l.method, l.count])).toEqual([
      ['INVALID_GRPC_TIMEOUT', 'INTERNAL', UserServiceService.getUser.path, 1],
      ['UNDECOMPRESSIBLE_MESSAGE', 'INTERNAL', UserServiceService.getUser.path, 1],
      ['UNSUPPORTED_ENCODING', 'UNIMPLEMENTED', UserServiceService.getUser.path, 1],
    ]);
    expect(warnings.every((l) => l.level === 'warn')).toBe(true);
  });

  it('leaves calls that reached the handler to the access log', async () => {
    lines.length = 0;
    const answer = await rawUnary(session, UserServiceService.getUser.path, grpcFrame(getUser));
    expect(answer.grpcStatus).toBe(status.NOT_FOUND);
    expect(lines.filter((l) => l.msg === 'call failed before reaching a handler')).toEqual([]);
    expect(lines.filter((l) => l.msg === 'rpc')).toHaveLength(1);
  });
});
