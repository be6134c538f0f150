import { type UserEvent, UserRegistered } from '../gen/shop/user/v1/events.pb.js';
import { newId } from '../shared/api/ids.js';
import { activeTraceHeaders } from '../shared/events/trace-context.js';
import type { OutboxEvent, StoredEvent, User } from './store.js';

/** CloudEvents `source` of UserService's events. */
export const USER_EVENT_SOURCE = 'urn:shop:user-service';

/** CloudEvents `type` of each payload: the payload message's full name. */
export const USER_REGISTERED = 'shop.user.v1.UserRegistered';

/**
 * The event announcing a new user: id and username only, never the e-mail,
 * carrying the trace context of the registration so that its consumers'
 * work can be linked to it.
 */
export function userRegisteredEvent(user: User): OutboxEvent {
  const payload: UserRegistered = {
    userId: user.id,
    username: user.username,
    createTime: user.createTime,
  };
  return {
    id: newId(),
    type: USER_REGISTERED,
    subject: user.id,
    time: user.createTime,
    ...activeTraceHeaders(),
    data: UserRegistered.encode(payload).finish(),
  };
}

/**
 * A stored event as the proto envelope. A type this code does not know
 * (written by a newer version during a rolling update) goes out without a
 * payload: consumers skip it by its type, and the stream does not stall.
 */
export function toUserEvent(event: StoredEvent): UserEvent {
  return {
    id: event.id,
    source: USER_EVENT_SOURCE,
    type: event.type,
    subject: event.subject,
    time: event.time,
    traceparent: event.traceparent,
    tracestate: event.tracestate,
    ...(event.type === USER_REGISTERED
      ? { userRegistered: UserRegistered.decode(event.data) }
      : {}),
  };
}
