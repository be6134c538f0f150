import {
  Server,
  ServerCredentials,
  type ServerOptions,
  type ServiceDefinition,
} from '@grpc/grpc-js';
import { unavailable } from '../errors/server-error.js';
import type { Logger } from '../process/logger.js';
import { bindService, type ServerMiddleware, type ServiceImplementation } from './bind-service.js';
import { protoRegistry } from './descriptors.js';
import { createHealth, type Health, ServingStatus } from './health.js';
import { createReflection } from './reflection.js';

export interface GrpcServerConfig {
  /** Interface to bind. Default in services' config: 0.0.0.0. */
  host: string;
  /** Port to bind; 0 picks a free one (tests). */
  port: number;
  /** How long in-flight calls may run after shutdown starts before they are cancelled. */
  shutdownGraceMs: number;
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
  deps: { log: Logger; middleware?: readonly ServerMiddleware[]; options?: ServerOptions },
): GrpcServer {
  const definition = service.definition as unknown as ServiceDefinition;
  const name = serviceNameOf(definition);
  const health = createHealth([name]);
  const reflection = createReflection(protoRegistry(), [name]);
  const ready: ServerMiddleware = (request, context, next) => {
    if (health.status !== ServingStatus.SERVING) {
      throw unavailable('the server is starting or shutting down; retry', 'NOT_SERVING', {
        retryDelayMs: 1000,
      });
    }
    return next(request, context);
  };
  const server = new Server({
    // Let a client that lost its connection notice within a minute.
    'grpc.keepalive_time_ms': 60_000,
    'grpc.keepalive_timeout_ms': 20_000,
    ...deps.options,
  });
  const bound = bindService(service.definition, service.implementation, {
    log: deps.log,
    middleware: [ready, ...(deps.middleware ?? [])],
  });
  server.addService(bound.definition, bound.implementation);
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
      server.forceShutdown();
    },
  };
}
