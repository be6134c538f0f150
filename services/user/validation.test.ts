import { describe, expect, it } from 'vitest';
import { invalidFields } from '../../test/support/invalid-fields.js';
import { parseCreateUser } from './validation.js';

const violations = (request: { username: string; email: string; requestId?: string }) =>
  invalidFields(() => parseCreateUser({ requestId: '', ...request }));

describe('parseCreateUser', () => {
  it('accepts valid input and lower-cases the email', () => {
    expect(
      parseCreateUser({ username: 'ada.l_1-x', email: 'Ada@Example.COM', requestId: 'req-1' }),
    ).toEqual({
      username: 'ada.l_1-x',
      email: 'ada@example.com',
      requestId: 'req-1',
    });
    expect(
      parseCreateUser({ username: 'bob', email: 'b@e.io', requestId: '' }).requestId,
    ).toBeUndefined();
  });

  it.each(['ab', 'a'.repeat(33), 'Ada', 'ada lovelace', 'ada@home', 'ädä', ''])(
    'rejects username %j',
    (username) => {
      expect(violations({ username, email: 'a@example.com' })).toEqual(['username']);
    },
  );

  it('accepts usernames at the length limits', () => {
    expect(violations({ username: 'abc', email: 'a@example.com' })).toEqual([]);
    expect(violations({ username: 'a'.repeat(32), email: 'a@example.com' })).toEqual([]);
  });

  it.each([
    '',
    'plain',
    'a@b',
    '@example.com',
    'a@@example.com',
    'a b@example.com',
    '.a@example.com',
    'a..b@example.com',
    'a@-example.com',
    'a@example..com',
    `${'a'.repeat(65)}@example.com`,
    `a@${'b'.repeat(250)}.com`,
    'ada@example.com\n',
  ])('rejects email %j', (email) => {
    expect(violations({ username: 'ada', email })).toEqual(['email']);
  });

  it.each(['a@example.com', 'first.last+tag@sub.example.co.uk', "o'hara@example.ie"])(
    'accepts email %j',
    (email) => {
      expect(violations({ username: 'ada', email })).toEqual([]);
    },
  );

  it('rejects a malformed request_id and reports every bad field at once', () => {
    expect(violations({ username: 'x', email: 'y', requestId: 'has space' })).toEqual([
      'username',
      'email',
      'request_id',
    ]);
    expect(
      violations({ username: 'ada', email: 'a@example.com', requestId: 'r'.repeat(65) }),
    ).toEqual(['request_id']);
  });
});
