/**
 * ProductService without its owner read model (docs/events.md): every page
 * asks UserService for its owners (BatchGetUsers), as it does for owners the
 * model does not hold yet. The tracing and metrics tests use it to see the
 * cross-service call on every read; with the read model a listing needs no
 * call to UserService at all, which test/integration/owner-replication.test.ts
 * checks.
 */
export const everyReadAsksUserService = { USER_EVENTS_TRANSPORT: 'none' } as const;
