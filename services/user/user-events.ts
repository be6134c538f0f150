import { type UserEvent, UserRegistered } from '../gen/shop/user/v1/events.pb.js';
import { newId } from '../shared/api/ids.js';
import { activeTraceHeaders } from '../shared/events/trace-context.js';
import {
  type EncodedUserEvent,
  USER_REGISTERED,
  userEventOf,
} from '../shared/events/user-event-envelope.js';
import type { OutboxEvent, StoredEvent, User } from './store.js';

/** CloudEvents `source` of UserService's events. */
export const USER_EVENT_SOURCE = 'urn:shop:user-service';

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

/** A stored event with its CloudEvents `source`: what both transports send. */
export function encodedUserEvent(event: StoredEvent): EncodedUserEvent {
  const { position: _position, ...attributes } = event;
  return { ...attributes, source: USER_EVENT_SOURCE };
}

/** A stored event as the proto envelope (the embedded transport's message). */
export function toUserEvent(event: StoredEvent): UserEvent {
  return userEventOf(encodedUserEvent(event));
}
