import { type ServiceError, status } from '@grpc/grpc-js';
import type {
  StreamUserEventsResponse,
  UserEventServiceClient,
} from '../gen/shop/user/v1/events.pb.js';
import { summarizeError } from '../shared/errors/describe-error.js';
import { type BackoffOptions, createBackoff } from '../shared/process/backoff.js';
import type { Logger } from '../shared/process/logger.js';
import { recurringWarning } from '../shared/process/recurring-warning.js';
import type { DeliveredEvent, UserEventTransport } from './user-event-transport.js';

/** The one stream of the embedded transport, as the read model records its position. */
export const GRPC_USER_EVENTS_STREAM = 'grpc:shop.user.v1.UserEventService';

/** The most events applied in one transaction. */
const MAX_BATCH = 100;

/** How often, at most, an outage writes its `user events unavailable` line. */
export const userEventsUnavailableIntervalMs = 5000;

export interface GrpcUserEventTransportOptions {
  client: UserEventServiceClient;
  log: Logger;
  /** Wait before reconnecting: doubles from initialMs up to maxMs, ±20% (default 100ms, 5s). */
  backoff?: BackoffOptions;
}

const isGrpcError = (error: unknown): error is ServiceError =>
  error instanceof Error && typeof (error as ServiceError).code === 'number';

/**
 * The embedded transport: follows UserService's outbox over
 * StreamUserEvents, resuming after the position the sink last applied. The
 * stream has no deadline (it is meant to stay open); UserService ends it
 * when it shuts down, and a lost connection ends it with UNAVAILABLE: both
 * are followed by a reconnection.
 */
export function createGrpcUserEventTransport(
  options: GrpcUserEventTransportOptions,
): UserEventTransport {
  const { client, log } = options;
  const unavailable = recurringWarning('user events unavailable', userEventsUnavailableIntervalMs);

  return {
    name: 'grpc',
    async follow(sink, signal) {
      const backoff = createBackoff(options.backoff);
      let failures = 0;
      while (!signal.aborted) {
        let connected = false;
        try {
          const after = await sink.positionOf(GRPC_USER_EVENTS_STREAM);
          const call = client.streamUserEvents({ afterPosition: after });
          const cancel = () => call.cancel();
          signal.addEventListener('abort', cancel, { once: true });
          call.once('metadata', () => {
            connected = true;
            backoff.reset();
            log.info({ after_position: String(after), failures }, 'following user events');
            failures = 0;
          });
          try {
            let batch: DeliveredEvent[] = [];
            for await (const message of call as AsyncIterable<StreamUserEventsResponse>) {
              if (!message.event) continue;
              batch.push({
                stream: GRPC_USER_EVENTS_STREAM,
                position: message.position,
                event: message.event,
              });
              // Everything already received goes in one transaction.
              if (call.readableLength === 0 || batch.length >= MAX_BATCH) {
                await sink.apply(batch);
                batch = [];
              }
            }
          } finally {
            signal.removeEventListener('abort', cancel);
            call.cancel();
          }
        } catch (error) {
          if (signal.aborted) break;
          failures++;
          unavailable.record(log, {
            err: summarizeError(error),
            code: isGrpcError(error) ? status[error.code] : undefined,
            retry_in_ms: backoff.delayMs,
          });
        }
        if (signal.aborted) break;
        // A stream that was up and ended reconnects at once; failures back off.
        if (!connected || failures > 0) await backoff.wait(signal);
      }
    },
  };
}
