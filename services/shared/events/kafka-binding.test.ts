import { describe, expect, it } from 'vitest';
import { UserRegistered } from '../../gen/shop/user/v1/events.pb.js';
import { fromKafkaRecord, MalformedRecordError, toKafkaRecord } from './kafka-binding.js';
import { type EncodedUserEvent, USER_REGISTERED, userEventOf } from './user-event-envelope.js';

const createTime = new Date('2026-12-03T07:00:00.123Z');
const event: EncodedUserEvent = {
  id: '0b6c8c64-4e8f-4c59-9d43-7d1a3e4b2f10',
  source: 'urn:shop:user-service',
  type: USER_REGISTERED,
  subject: 'u-42',
  time: createTime,
  traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  tracestate: '',
  data: UserRegistered.encode({ userId: 'u-42', username: 'ada', createTime }).finish(),
};

const header = (record: ReturnType<typeof toKafkaRecord>, name: string) =>
  record.headers.get(name)?.toString();

describe('the CloudEvents Kafka binding (binary mode)', () => {
  it('writes the attributes as ce_ headers, the subject as the key, the payload as the value', () => {
    const record = toKafkaRecord({ event, sequence: 7n });
    expect(record.key.toString()).toBe('u-42');
    expect(header(record, 'ce_specversion')).toBe('1.0');
    expect(header(record, 'ce_id')).toBe(event.id);
    expect(header(record, 'ce_type')).toBe(USER_REGISTERED);
    expect(header(record, 'ce_time')).toBe('2026-12-03T07:00:00.123Z');
    expect(header(record, 'ce_sequence')).toBe('0000000000000000007');
    expect(header(record, 'content-type')).toBe('application/protobuf');
    // An empty attribute is left out rather than sent empty.
    expect(record.headers.has('ce_tracestate')).toBe(false);
    expect(UserRegistered.decode(record.value)).toEqual({
      userId: 'u-42',
      username: 'ada',
      createTime,
    });
  });

  it('orders sequences as strings the way positions order as numbers', () => {
    const sequences = [9n, 10n, 123_456_789_012n, 9_223_372_036_854_775_807n].map((sequence) =>
      header(toKafkaRecord({ event, sequence }), 'ce_sequence'),
    );
    expect([...sequences].sort()).toEqual(sequences);
  });

  it('reads back what it wrote, headers named by strings or bytes', () => {
    const record = toKafkaRecord({ event, sequence: 123_456_789_012n });
    const asBytes = new Map([...record.headers].map(([name, value]) => [Buffer.from(name), value]));
    for (const headers of [record.headers, asBytes]) {
      const read = fromKafkaRecord({ value: record.value, headers });
      expect(read.sequence).toBe(123_456_789_012n);
      expect(userEventOf(read.event)).toEqual(userEventOf(event));
    }
  });

  it.each([
    ['no ce_id', (headers: Map<string, Buffer>) => headers.delete('ce_id'), /no ce_id header/],
    [
      'another specversion',
      (headers: Map<string, Buffer>) => headers.set('ce_specversion', Buffer.from('0.3')),
      /ce_specversion 0.3/,
    ],
    [
      'a JSON payload',
      (headers: Map<string, Buffer>) =>
        headers.set('content-type', Buffer.from('application/json')),
      /content-type application\/json/,
    ],
    [
      'a sequence that is not a position',
      (headers: Map<string, Buffer>) => headers.set('ce_sequence', Buffer.from('-1')),
      /ce_sequence is not a position/,
    ],
    [
      'a time that is not a timestamp',
      (headers: Map<string, Buffer>) => headers.set('ce_time', Buffer.from('yesterday')),
      /ce_time is not a timestamp/,
    ],
  ])('rejects a record with %s as malformed', (_case, spoil, reason) => {
    const record = toKafkaRecord({ event, sequence: 1n });
    spoil(record.headers);
    const read = () => fromKafkaRecord(record);
    expect(read).toThrow(MalformedRecordError);
    expect(read).toThrow(reason);
  });
});
