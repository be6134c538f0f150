import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserServiceClient } from '../../services/gen/shop/user/v1/user_service.pb.js';
import { newId } from '../../services/shared/api/ids.js';
import { unaryCall } from '../../services/shared/grpc/unary-call.js';
import { expectStatus } from '../support/rpc.js';
import { type Running, startUserService } from '../support/services.js';

let users: Running<UserServiceClient>;
beforeAll(async () => {
  users = await startUserService();
});
afterAll(() => users.stop());

let sequence = 0;
const unique = (prefix: string) => `${prefix}${++sequence}${Date.now() % 100000}`;
const create = (username = unique('u'), email = `${username}@example.com`, requestId = '') =>
  unaryCall(users.client, 'createUser', { username, email, requestId });

describe('UserService over a real socket', () => {
  it('creates a user and gets it back, with the email lower-cased', async () => {
    const username = unique('ada');
    const { user } = await create(username, `${username.toUpperCase()}@Example.COM`);
    expect(user).toMatchObject({ username, email: `${username}@example.com` });
    expect(user?.createTime).toBeInstanceOf(Date);
    const got = await unaryCall(users.client, 'getUser', { id: user?.id ?? '' });
    expect(got.user).toEqual(user);
  });

  it('treats case variants of an email as the same email', async () => {
    const username = unique('grace');
    await create(username, `${username}@example.com`);
    const status_ = await expectStatus(
      create(unique('other'), `${username.toUpperCase()}@EXAMPLE.com`),
      status.ALREADY_EXISTS,
    );
    expect(status_.errorInfo).toMatchObject({
      reason: 'EMAIL_TAKEN',
      metadata: { field: 'email' },
    });
  });

  it('rejects a taken username with ALREADY_EXISTS naming the field, not the value', async () => {
    const username = unique('linus');
    await create(username);
    const taken = await expectStatus(
      create(username, `${unique('x')}@example.com`),
      status.ALREADY_EXISTS,
    );
    expect(taken.errorInfo).toMatchObject({
      reason: 'USERNAME_TAKEN',
      metadata: { field: 'username' },
    });
    expect(taken.message).not.toContain(username);
  });

  it('replays a create with the same request_id instead of failing or duplicating', async () => {
    const username = unique('barbara');
    const requestId = newId();
    const first = await create(username, `${username}@example.com`, requestId);
    const again = await create(username, `${username}@example.com`, requestId);
    expect(again.user).toEqual(first.user);
    const reused = await expectStatus(
      create(unique('eve'), `${unique('eve')}@example.com`, requestId),
      status.INVALID_ARGUMENT,
    );
    expect(reused.badRequest?.fieldViolations.map((v) => v.field)).toEqual(['request_id']);
  });

  it('answers concurrent retries of one create with one user', async () => {
    const username = unique('concurrent');
    const requestId = newId();
    const results = await Promise.all(
      Array.from({ length: 20 }, () => create(username, `${username}@example.com`, requestId)),
    );
    expect(new Set(results.map((r) => r.user?.id)).size).toBe(1);
    const { users: page } = await unaryCall(users.client, 'batchGetUsers', {
      ids: [results[0]?.user?.id ?? ''],
    });
    expect(page).toHaveLength(1);
  });

  it('rejects invalid input with every bad field in a BadRequest', async () => {
    const bad = await expectStatus(
      unaryCall(users.client, 'createUser', { username: 'A!', email: 'nope', requestId: 'bad id' }),
      status.INVALID_ARGUMENT,
    );
    expect(bad.badRequest?.fieldViolations.map((v) => v.field)).toEqual([
      'username',
      'email',
      'request_id',
    ]);
  });

  it('answers NOT_FOUND for an unknown id and INVALID_ARGUMENT for a malformed one', async () => {
    const missing = newId();
    const notFound = await expectStatus(
      unaryCall(users.client, 'getUser', { id: missing }),
      status.NOT_FOUND,
    );
    expect(notFound.resourceInfo).toMatchObject({
      resourceType: 'shop.user.v1.User',
      resourceName: missing,
    });
    const malformed = await expectStatus(
      unaryCall(users.client, 'getUser', { id: 'not-a-uuid' }),
      status.INVALID_ARGUMENT,
    );
    expect(malformed.badRequest?.fieldViolations[0]?.field).toBe('id');
  });

  it('batch-gets in request order, once per id, listing the ids not found', async () => {
    const a = (await create()).user?.id ?? '';
    const b = (await create()).user?.id ?? '';
    const ghost = newId();
    const response = await unaryCall(users.client, 'batchGetUsers', { ids: [b, ghost, a, b] });
    expect(response.users.map((u) => u.id)).toEqual([b, a]);
    expect(response.notFoundIds).toEqual([ghost]);
  });

  it('limits a batch to 1..100 valid ids', async () => {
    await expectStatus(
      unaryCall(users.client, 'batchGetUsers', { ids: [] }),
      status.INVALID_ARGUMENT,
    );
    const tooMany = await expectStatus(
      unaryCall(users.client, 'batchGetUsers', { ids: Array.from({ length: 101 }, () => newId()) }),
      status.INVALID_ARGUMENT,
    );
    expect(tooMany.badRequest?.fieldViolations.map((v) => v.field)).toEqual(['ids']);
    const malformed = await expectStatus(
      unaryCall(users.client, 'batchGetUsers', { ids: [newId(), 'x'] }),
      status.INVALID_ARGUMENT,
    );
    expect(malformed.badRequest?.fieldViolations.map((v) => v.field)).toEqual(['ids[1]']);
    const hundred = await unaryCall(users.client, 'batchGetUsers', {
      ids: Array.from({ length: 100 }, () => newId()),
    });
    expect(hundred.notFoundIds).toHaveLength(100);
  });

  it('pages through every user exactly once while users are being added', async () => {
    const before = new Set<string>();
    for (let i = 0; i < 7; i++) before.add((await create()).user?.id ?? '');
    const seen: string[] = [];
    let pageToken = '';
    do {
      const page = await unaryCall(users.client, 'listUsers', { pageSize: 3, pageToken });
      expect(page.users.length).toBeLessThanOrEqual(3);
      seen.push(...page.users.map((u) => u.id));
      pageToken = page.nextPageToken;
      await create(); // inserted mid-listing: must not shift or duplicate anything
    } while (pageToken !== '');
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of before) expect(seen).toContain(id);
    expect([...seen].sort()).toEqual(seen);
  });

  it('validates list paging input', async () => {
    const bad = await expectStatus(
      unaryCall(users.client, 'listUsers', { pageSize: -1, pageToken: 'garbage!' }),
      status.INVALID_ARGUMENT,
    );
    expect(bad.badRequest?.fieldViolations.map((v) => v.field)).toEqual([
      'page_size',
      'page_token',
    ]);
    const capped = await unaryCall(users.client, 'listUsers', { pageSize: 5000, pageToken: '' });
    expect(capped.users.length).toBeLessThanOrEqual(100);
  });
});
