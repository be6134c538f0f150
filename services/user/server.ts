import { UserEventServiceService } from '../gen/shop/user/v1/events.pb.js';
import { UserServiceService } from '../gen/shop/user/v1/user_service.pb.js';
import type { ServerMiddleware } from '../shared/grpc/bind-service.js';
import {
  createGrpcServer,
  type GrpcServer,
  type GrpcServerConfig,
  type StreamingService,
} from '../shared/grpc/grpc-server.js';
import type { Logger } from '../shared/process/logger.js';
import { DEFAULT_EVENT_POLL_MS } from './config.js';
import { createUserEventService } from './event-service.js';
import { createOutboxSignal, type OutboxSignal } from './outbox-signal.js';
import { createUserService } from './service.js';
import type { UserStore } from './store.js';

export interface UserServerDeps {
  store: UserStore;
  log: Logger;
  now?: () => Date;
  middleware?: readonly ServerMiddleware[];
  /** How often a caught-up event stream polls the outbox (default DEFAULT_EVENT_POLL_MS). */
  eventPollIntervalMs?: number;
  /** Told of every registration, to wake the streams (and the Kafka relay, which shares it). */
  outbox?: OutboxSignal;
}

/**
 * UserService and UserEventService (the outbox as a stream) with health and
 * reflection on one grpc-js server; not listening yet.
 */
export function createUserServer(config: GrpcServerConfig, deps: UserServerDeps): GrpcServer {
  const outbox = deps.outbox ?? createOutboxSignal();
  const events: StreamingService<typeof UserEventServiceService> = {
    definition: UserEventServiceService,
    implementation: createUserEventService({
      store: deps.store,
      outbox,
      pollIntervalMs: deps.eventPollIntervalMs ?? DEFAULT_EVENT_POLL_MS,
    }),
  };
  return createGrpcServer(
    config,
    { definition: UserServiceService, implementation: createUserService({ ...deps, outbox }) },
    { ...deps, streams: [events] },
  );
}
