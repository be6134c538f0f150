/** A registered user, as the service and its stores see it. */
export interface User {
  id: string;
  username: string;
  /** Lower-case. */
  email: string;
  createTime: Date;
}

/**
 * An event as the outbox stores it: the CloudEvents attributes, and `data`,
 * the payload message's protobuf encoding (its type says which message).
 */
export interface OutboxEvent {
  id: string;
  type: string;
  /** The user the event is about. */
  subject: string;
  time: Date;
  traceparent: string;
  tracestate: string;
  data: Uint8Array;
}

/** A stored event and its position in the outbox. */
export interface StoredEvent extends OutboxEvent {
  /**
   * Grows with every event, in commit order: once an event is visible, no
   * event with a lower position can appear later (see sql-store.ts).
   */
  position: bigint;
}

/**
 * Where users live, with the outbox of events about them. Implementations enforce uniqueness of id, username,
 * email and request_id in the database itself, and report a conflict as
 * UniqueViolationError naming the column.
 */
export interface UserStore {
  /**
   * Stores a new user, remembering the idempotency key it was created under,
   * if any, and its UserRegistered event (see userRegisteredEvent), in one
   * transaction: the event exists if and only if the user does, whoever
   * calls.
   */
  insert(user: User, requestId: string | undefined): Promise<void>;
  findByRequestId(requestId: string): Promise<User | undefined>;
  get(id: string): Promise<User | undefined>;
  /** The users among `ids` that exist, in no particular order. At most 100 ids. */
  getMany(ids: readonly string[]): Promise<User[]>;
  /** Up to `limit` users with ids after `after`, in id (creation) order. */
  list(after: string | undefined, limit: number): Promise<User[]>;
  /** Up to `limit` events with positions above `after`, in position order. */
  eventsAfter(after: bigint, limit: number): Promise<StoredEvent[]>;
  /** The position of the latest event; 0 when there is none. */
  latestEventPosition(): Promise<bigint>;
  /**
   * One step of relay `relay`: hands up to `limit` events after the relay's
   * stored position to `publish`, and stores the last one's position once
   * `publish` resolved (the broker acknowledged them), so an event is marked
   * sent only after it was; a failed or interrupted publish sends them
   * again. Resolves with the number of events published, or `undefined`
   * when another process holds this relay (PostgreSQL replicas take turns:
   * one relays while the others wait).
   */
  relayEvents(
    relay: string,
    limit: number,
    publish: (events: readonly StoredEvent[]) => Promise<void>,
  ): Promise<number | undefined>;
}
