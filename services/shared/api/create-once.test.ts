import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { ServerError } from '../errors/server-error.js';
import { UniqueViolationError } from '../errors/unique-violation-error.js';
import { createOnce } from './create-once.js';

interface Row {
  id: string;
  name: string;
  requestId?: string;
}

/** A store with a unique request_id, in memory: enough to pin down the protocol. */
function memoryStore() {
  const rows: Row[] = [];
  return {
    rows,
    findByRequestId: async (requestId: string) => rows.find((r) => r.requestId === requestId),
    insert: async (row: Row) => {
      if (row.requestId && rows.some((r) => r.requestId === row.requestId)) {
        throw new UniqueViolationError('request_id');
      }
      rows.push(row);
      return row;
    },
  };
}

describe('createOnce', () => {
  it('creates once and replays the original for the same request_id', async () => {
    const store = memoryStore();
    const op = (id: string) =>
      createOnce({
        requestId: 'r1',
        findByRequestId: store.findByRequestId,
        insert: () => store.insert({ id, name: 'lamp', requestId: 'r1' }),
        sameRequest: (row) => row.name === 'lamp',
      });
    expect(await op('a')).toEqual({
      entity: { id: 'a', name: 'lamp', requestId: 'r1' },
      replayed: false,
    });
    expect(await op('b')).toEqual({
      entity: { id: 'a', name: 'lamp', requestId: 'r1' },
      replayed: true,
    });
    expect(store.rows).toHaveLength(1);
  });

  it('answers a racing twin with the winner, even when its insert lost on the unique index', async () => {
    const store = memoryStore();
    // Both attempts look up the key before either inserts: the second insert hits the index.
    const attempts = ['a', 'b'].map((id) =>
      createOnce({
        requestId: 'r1',
        findByRequestId: store.findByRequestId,
        insert: async () => {
          await new Promise((r) => setTimeout(r, 5));
          return store.insert({ id, name: 'lamp', requestId: 'r1' });
        },
        sameRequest: () => true,
      }),
    );
    const results = await Promise.all(attempts);
    expect(results.map((r) => r.entity.id)).toEqual(['a', 'a']);
    expect(results.map((r) => r.replayed)).toEqual([false, true]);
    expect(store.rows).toHaveLength(1);
  });

  it('rejects a reused request_id with different fields as INVALID_ARGUMENT on request_id', async () => {
    const store = memoryStore();
    await store.insert({ id: 'a', name: 'lamp', requestId: 'r1' });
    const error = await createOnce({
      requestId: 'r1',
      findByRequestId: store.findByRequestId,
      insert: () => store.insert({ id: 'b', name: 'chair', requestId: 'r1' }),
      sameRequest: (row) => row.name === 'chair',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServerError);
    expect((error as ServerError).code).toBe(status.INVALID_ARGUMENT);
    expect((error as ServerError).details.fieldViolations?.[0]?.field).toBe('request_id');
  });

  it('passes other unique conflicts through when there is no key', async () => {
    const error = await createOnce({
      requestId: undefined,
      findByRequestId: async () => undefined,
      insert: async () => {
        throw new UniqueViolationError('username');
      },
      sameRequest: () => true,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UniqueViolationError);
    expect((error as UniqueViolationError).column).toBe('username');
  });
});
