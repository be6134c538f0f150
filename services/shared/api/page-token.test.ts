import { describe, expect, it } from 'vitest';
import { invalidFields } from '../../../test/support/invalid-fields.js';
import { newId } from './ids.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, nextPage, readPage } from './page-token.js';

const rows = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ id: newId(new Date(1_700_000_000_000 + i)) }));

/** The fields an INVALID_ARGUMENT from `fn` names; fails when `fn` does not throw. */
function violationsOf(fn: () => unknown) {
  const fields = invalidFields(fn);
  expect(fields, 'expected INVALID_ARGUMENT').not.toEqual([]);
  return fields;
}

describe('readPage', () => {
  it('uses the default size for 0 and caps large sizes', () => {
    expect(readPage({ pageSize: 0, pageToken: '' })).toEqual({
      after: undefined,
      size: DEFAULT_PAGE_SIZE,
    });
    expect(readPage({ pageSize: 7, pageToken: '' }).size).toBe(7);
    expect(readPage({ pageSize: 100_000, pageToken: '' }).size).toBe(MAX_PAGE_SIZE);
  });

  it('rejects a negative size and a garbage token together', () => {
    expect(violationsOf(() => readPage({ pageSize: -1, pageToken: 'not a token!' }))).toEqual([
      'page_size',
      'page_token',
    ]);
  });

  it.each([
    ['not base64url', '%%%'],
    ['base64 of non-JSON', Buffer.from('hello').toString('base64url')],
    ['JSON of the wrong shape', Buffer.from('{"v":2}').toString('base64url')],
    [
      'a cursor that is not a UUID',
      Buffer.from('{"v":1,"after":"1 OR 1=1","scope":""}').toString('base64url'),
    ],
  ])('rejects %s', (_, token) => {
    expect(violationsOf(() => readPage({ pageSize: 1, pageToken: token }))).toEqual(['page_token']);
  });
});

describe('nextPage', () => {
  it('returns no token when the extra row is absent', () => {
    const page = readPage({ pageSize: 3, pageToken: '' });
    expect(nextPage(rows(3), page)).toEqual({
      items: rows(3).map(() => expect.anything()),
      nextPageToken: '',
    });
  });

  it('round-trips a token that resumes after the last item of the page', () => {
    const all = rows(5);
    const first = nextPage(all.slice(0, 3), readPage({ pageSize: 2, pageToken: '' }));
    expect(first.items).toEqual(all.slice(0, 2));
    expect(first.nextPageToken).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(readPage({ pageSize: 2, pageToken: first.nextPageToken })).toEqual({
      after: all[1]?.id,
      size: 2,
    });
  });

  it('binds a token to the filter it was issued for', () => {
    const { nextPageToken } = nextPage(
      rows(3),
      readPage({ pageSize: 2, pageToken: '' }, 'owner_id=a'),
      'owner_id=a',
    );
    expect(readPage({ pageSize: 2, pageToken: nextPageToken }, 'owner_id=a').after).toBeDefined();
    expect(
      violationsOf(() => readPage({ pageSize: 2, pageToken: nextPageToken }, 'owner_id=b')),
    ).toEqual(['page_token']);
    expect(violationsOf(() => readPage({ pageSize: 2, pageToken: nextPageToken }))).toEqual([
      'page_token',
    ]);
  });
});
