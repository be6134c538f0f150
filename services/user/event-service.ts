import { status } from '@grpc/grpc-js';
import type {
  StreamUserEventsResponse,
  UserEventServiceService,
} from '../gen/shop/user/v1/events.pb.js';
import { invalidArgument, ServerError } from '../shared/errors/server-error.js';
import type { ServerStreamImplementation } from '../shared/grpc/bind-server-stream.js';
import type { OutboxSignal } from './outbox-signal.js';
import type { UserStore } from './store.js';
import { toUserEvent } from './user-events.js';

export interface UserEventServiceDeps {
  store: UserStore;
  /** Wakes streams when this process stores an event. */
  outbox: OutboxSignal;
  /** How often a stream that is caught up looks for events stored by other replicas. */
  pollIntervalMs: number;
}

/** Events read per query: a stream catching up sends them as one burst, then reads on. */
export const EVENT_BATCH_SIZE = 100;

/** shop.user.v1.UserEventService over the outbox in a UserStore. */
export function createUserEventService(
  deps: UserEventServiceDeps,
): ServerStreamImplementation<typeof UserEventServiceService> {
  const { store, outbox, pollIntervalMs } = deps;
  return {
    async streamUserEvents(request, send, context) {
      const after = request.afterPosition;
      if (after < 0n) {
        throw invalidArgument([
          { field: 'after_position', description: 'must be 0 (from the start) or a position' },
        ]);
      }
      const latest = await store.latestEventPosition();
      if (after > latest) {
        throw new ServerError(
          status.OUT_OF_RANGE,
          `after_position is beyond the latest event (${latest})`,
          {
            reason: 'POSITION_AHEAD',
            fieldViolations: [
              {
                field: 'after_position',
                description: `must be at most the latest event's position, ${latest}: this outbox never issued it (was the database restored?)`,
              },
            ],
          },
        );
      }
      // Positions follow commit order (see sql-store.ts), so the cursor never
      // needs to revisit a gap: an event below it can no longer appear.
      let cursor = after;
      while (!context.signal.aborted) {
        const seen = outbox.version;
        const events = await store.eventsAfter(cursor, EVENT_BATCH_SIZE);
        for (const event of events) {
          const response: StreamUserEventsResponse = {
            position: event.position,
            event: toUserEvent(event),
          };
          await send(response);
          cursor = event.position;
        }
        if (events.length < EVENT_BATCH_SIZE) {
          await outbox.changedSince(seen, pollIntervalMs, context.signal);
        }
      }
    },
  };
}
