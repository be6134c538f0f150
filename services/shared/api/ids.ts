import { v7 } from 'uuid';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** True for a lower-case canonical UUID, the only id form the services issue or accept. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/**
 * A UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then a counter
 * and random bits. Ids sort by creation time, so keyset pagination by id
 * lists oldest first and B-tree inserts stay append-mostly.
 *
 * Without `at`, ids are monotonic within this process even inside one
 * millisecond (the uuid package keeps a counter, RFC 9562 method 1): two
 * users created in the same millisecond list in creation order. Replicas
 * each keep their own counter, so across replicas the order within a
 * millisecond is arbitrary. `at` fixes the timestamp (tests, imports) and
 * gives no order within its millisecond.
 */
export function newId(at?: Date): string {
  return at === undefined ? v7() : v7({ msecs: at.getTime() });
}
