import type { EncodedUserEvent } from './user-event-envelope.js';

/** The topic UserService's events go to, unless KAFKA_TOPIC says otherwise. */
export const USER_EVENTS_TOPIC = 'shop.user.v1.events';

/** The record's `content-type` header: CloudEvents' `datacontenttype`, the payload's encoding. */
export const PROTOBUF_CONTENT_TYPE = 'application/protobuf';

/** A Kafka record as the clients send and deliver it: key, value and headers as bytes. */
export interface KafkaRecordParts {
  key: Buffer;
  value: Buffer;
  headers: Map<string, Buffer>;
}

/** An event with its outbox position, the record's CloudEvents `sequence`. */
export interface SequencedUserEvent {
  event: EncodedUserEvent;
  /** The outbox position: grows with every event, in commit order. */
  sequence: bigint;
}

// The CloudEvents sequence extension is a string compared lexicographically:
// zero-padded to int64's 19 digits, its order is the positions' order.
const SEQUENCE_DIGITS = 19;

/**
 * The CloudEvents Kafka protocol binding, binary content mode: the
 * attributes as `ce_` headers, the payload message's bytes as the value,
 * the subject (the user id) as the key, so a user's events share a
 * partition and keep their order.
 */
export function toKafkaRecord({ event, sequence }: SequencedUserEvent): KafkaRecordParts {
  const headers = new Map<string, Buffer>();
  const set = (name: string, value: string) => {
    if (value !== '') headers.set(name, Buffer.from(value));
  };
  set('ce_specversion', '1.0');
  set('ce_id', event.id);
  set('ce_source', event.source);
  set('ce_type', event.type);
  set('ce_subject', event.subject);
  set('ce_time', event.time.toISOString());
  set('ce_sequence', sequence.toString().padStart(SEQUENCE_DIGITS, '0'));
  set('ce_traceparent', event.traceparent);
  set('ce_tracestate', event.tracestate);
  set('content-type', PROTOBUF_CONTENT_TYPE);
  return { key: Buffer.from(event.subject), value: Buffer.from(event.data), headers };
}

/** Why a record is not a user event this binding can read. */
export class MalformedRecordError extends Error {
  override readonly name = 'MalformedRecordError';
}

/**
 * Reads a record written by toKafkaRecord (or any producer following the
 * binding with the same attributes); throws MalformedRecordError naming
 * the first attribute missing or invalid.
 */
export function fromKafkaRecord(record: {
  value: Buffer | undefined;
  headers: Map<Buffer | string, Buffer>;
}): SequencedUserEvent {
  const headers = new Map<string, string>();
  for (const [name, value] of record.headers) headers.set(name.toString(), value.toString());
  const required = (name: string) => {
    const value = headers.get(name);
    if (!value) throw new MalformedRecordError(`record has no ${name} header`);
    return value;
  };
  if (required('ce_specversion') !== '1.0') {
    throw new MalformedRecordError(`ce_specversion ${headers.get('ce_specversion')} is not 1.0`);
  }
  const contentType = headers.get('content-type');
  if (contentType !== undefined && contentType !== PROTOBUF_CONTENT_TYPE) {
    throw new MalformedRecordError(`content-type ${contentType} is not ${PROTOBUF_CONTENT_TYPE}`);
  }
  const sequence = required('ce_sequence');
  if (!/^\d{1,19}$/.test(sequence)) throw new MalformedRecordError('ce_sequence is not a position');
  const time = new Date(required('ce_time'));
  if (Number.isNaN(time.getTime())) throw new MalformedRecordError('ce_time is not a timestamp');
  return {
    event: {
      id: required('ce_id'),
      source: required('ce_source'),
      type: required('ce_type'),
      subject: required('ce_subject'),
      time,
      traceparent: headers.get('ce_traceparent') ?? '',
      tracestate: headers.get('ce_tracestate') ?? '',
      data: record.value ?? Buffer.alloc(0),
    },
    sequence: BigInt(sequence),
  };
}
