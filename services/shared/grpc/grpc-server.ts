import {
  Server,
  ServerCredentials,
  type ServerOptions,
  type ServiceDefinition,
} from '@grpc/grpc-js';
import { unavailable } from '../errors/server-error.js';
import type { Logger } from '../process/logger.js';
import { createServerRpcMetrics } from '../telemetry/rpc-metrics.js';
import {
  type BoundStreamService,
  bindServerStreams,
  type ServerStreamImplementation,
} from './bind-server-stream.js';
import { bindService, type ServerMiddleware, type ServiceImplementation } from './bind-service.js';
import { createHealth, type Health, ServingStatus } from './health.js';
import { preHandlerFailureInterceptor } from './pre-handler-failures.js';
import { createReflection } from './reflection.js';
import { DEFAULT_MAX_CALL_MS, defaultServerLimits, type ServerLimits } from './server-limits.js';

export interface GrpcServerConfig {
  /** Interface to bind. Default in services' config: 0.0.0.0. */
  host: string;
  /** Port to bind; 0 picks a free one (tests). */
  port: number;
  /** How long in-flight calls may run after shutdown starts before they are cancelled. */
  shutdownGraceMs: number;
  /**
   * The longest a call may run (GRPC_MAX_CALL_DURATION, default 30s): the
   * deadline of a call that sends none, and the clamp on a later one.
   */
  maxCallMs?: number;
  /** Connection and message limits (default: defaultServerLimits). */
  limits?: ServerLimits;
}

export interface GrpcServer {
  readonly health: Health;
  /** Binds and starts serving; resolves to the bound port. Readiness stays NOT_SERVING; liveness is SERVING. */
  listen(): Promise<number>;
  /**
   * Health goes NOT_SERVING, new calls are refused, in-flight calls get the
   * grace period to finish, then whatever is left is cancelled.
   */
  shutdown(): Promise<void>;
  /** Cancels every call and closes every connection now. */
  forceShutdown(): void;
}

/** `shop.user.v1.UserService`, from the path of any method of the definition. */
export function serviceNameOf(definition: ServiceDefinition): string {
  const [first] = Object.values(definition);
  const name = first?.path.split('/')[1];
  if (!name) throw new Error('service definition has no methods');
  return name;
}

/** A service whose methods stream responses, served next to the unary one. */
export interface StreamingService<Definition extends object = object> {
  definition: Definition;
  implementation: ServerStreamImplementation<Definition>;
}

/**
 * A grpc-js server for one application service, with health and reflection
 * that list exactly that service. The server binds the typed implementation
 * itself (see bindService), behind a readiness gate: until health says
 * SERVING (starting: the schema may not exist yet; stopping: the server is
 * draining) the service answers UNAVAILABLE, which callers and the mesh retry
 * elsewhere, instead of failing on a half-ready store.
 */
export function createGrpcServer<Definition extends object>(
  config: GrpcServerConfig,
  service: { definition: Definition; implementation: ServiceImplementation<Definition> },
  deps: {
    log: Logger;
    middleware?: readonly ServerMiddleware[];
    options?: ServerOptions;
    streams?: readonly StreamingService[];
  },
): GrpcServer {
  const definition = service.definition as unknown as ServiceDefinition;
  const streamNames = (deps.streams ?? []).map((s) =>
    serviceNameOf(s.definition as unknown as ServiceDefinition),
  );
  const names = [serviceNameOf(definition), ...streamNames];
  const reflection = createReflection(names);
  // Reflection's descriptors load once the server serves, off the start-up
  // path (reflection.ts); a failure is a build fault, said loudly.
  const health = createHealth(names, {
    onServing: () =>
      setImmediate(() => {
        reflection.load().catch((error: unknown) => {
          deps.log.error({ err: error }, 'reflection descriptors not loaded');
        });
      }),
  });
  const ready: ServerMiddleware = (request, context, next) => {
    if (health.status !== ServingStatus.SERVING) {
      throw unavailable('the server is starting or shutting down; retry', 'NOT_SERVING', {
        retryDelayMs: 1000,
      });
    }
    return next(request, context);
  };
  const limits = config.limits ?? defaultServerLimits;
  const maxCallMs = config.maxCallMs ?? DEFAULT_MAX_CALL_MS;
  const server = new Server({
    'grpc.max_receive_message_length': limits.maxReceiveMessageBytes,
    'grpc.max_concurrent_streams': limits.maxConcurrentStreams,
    'grpc.max_connection_idle_ms': limits.maxConnectionIdleMs,
    'grpc.max_connection_age_ms': limits.maxConnectionAgeMs,
    'grpc.max_connection_age_grace_ms': limits.maxConnectionAgeGraceMs,
    // Pings let the server notice a peer that vanished without closing.
    'grpc.keepalive_time_ms': limits.keepaliveTimeMs,
    'grpc.keepalive_timeout_ms': limits.keepaliveTimeoutMs,
    'grpc-node.max_session_memory': limits.maxSessionMemoryMb,
    ...deps.options,
    interceptors: [
      preHandlerFailureInterceptor({
        log: deps.log,
        metrics: createServerRpcMetrics(),
        requestReceiveTimeoutMs: Math.min(limits.requestReceiveTimeoutMs, maxCallMs),
        maxConcurrentCalls: limits.maxConcurrentCalls,
      }),
      ...(deps.options?.interceptors ?? []),
    ],
  });
  const bound = bindService(service.definition, service.implementation, {
    log: deps.log,
    middleware: [ready, ...(deps.middleware ?? [])],
    maxCallMs,
  });
  server.addService(bound.definition, bound.implementation);
  const streams: BoundStreamService[] = (deps.streams ?? []).map((stream) =>
    bindServerStreams(stream.definition, stream.implementation, {
      log: deps.log,
      isReady: () => health.status === ServingStatus.SERVING,
    }),
  );
  for (const stream of streams) server.addService(stream.definition, stream.implementation);
  for (const { definition, implementation } of [health, ...reflection.services]) {
    server.addService(definition, implementation);
  }
  let stopping: Promise<void> | undefined;

  return {
    health,
    listen() {
      return new Promise((resolve, reject) => {
        server.bindAsync(
          `${config.host}:${config.port}`,
          ServerCredentials.createInsecure(),
          (error, port) => {
            if (error) return reject(error);
            health.setListening();
            resolve(port);
          },
        );
      });
    },
    shutdown() {
      stopping ??= new Promise<void>((resolve) => {
        health.shutdown();
        for (const stream of streams) stream.close();
        const timer = setTimeout(() => {
          deps.log.warn(
            { grace_ms: config.shutdownGraceMs },
            'grace period over, cancelling calls',
          );
          server.forceShutdown();
        }, config.shutdownGraceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      return stopping;
    },
    forceShutdown() {
      health.shutdown();
      for (const stream of streams) stream.close();
      server.forceShutdown();
    },
  };
}
