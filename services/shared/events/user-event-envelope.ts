import { type UserEvent, UserRegistered } from '../../gen/shop/user/v1/events.pb.js';
import type { TraceHeaders } from './trace-context.js';

/** CloudEvents `type` of each payload: the payload message's full name. */
export const USER_REGISTERED = 'shop.user.v1.UserRegistered';

/** A user event's CloudEvents attributes, with its payload still encoded (`data`). */
export interface EncodedUserEvent extends TraceHeaders {
  id: string;
  source: string;
  type: string;
  subject: string;
  time: Date;
  /** The payload message's protobuf encoding; `type` says which message. */
  data: Uint8Array;
}

/**
 * The proto envelope of an encoded event, on either transport. A type this
 * code does not know (written by a newer version during a rolling update)
 * has no payload: consumers skip it by its type, and the stream does not
 * stall.
 */
export function userEventOf(encoded: EncodedUserEvent): UserEvent {
  const { data, ...attributes } = encoded;
  return {
    ...attributes,
    ...(encoded.type === USER_REGISTERED ? { userRegistered: UserRegistered.decode(data) } : {}),
  };
}
