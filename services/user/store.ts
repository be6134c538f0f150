/** A registered user, as the service and its stores see it. */
export interface User {
  id: string;
  username: string;
  /** Lower-case. */
  email: string;
  createTime: Date;
}

/**
 * Where users live. Implementations enforce uniqueness of id, username,
 * email and request_id in the database itself, and report a conflict as
 * UniqueViolationError naming the column.
 */
export interface UserStore {
  /** Stores a new user, remembering the idempotency key it was created under, if any. */
  insert(user: User, requestId: string | undefined): Promise<void>;
  findByRequestId(requestId: string): Promise<User | undefined>;
  get(id: string): Promise<User | undefined>;
  /** The users among `ids` that exist, in no particular order. At most 100 ids. */
  getMany(ids: readonly string[]): Promise<User[]>;
  /** Up to `limit` users with ids after `after`, in id (creation) order. */
  list(after: string | undefined, limit: number): Promise<User[]>;
}
