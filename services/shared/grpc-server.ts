import {
  Server,
  ServerCredentials,
  type ServerOptions,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { protoRegistry } from './descriptors.js';
import { createHealth, type Health } from './health.js';
import type { Logger } from './logger.js';
import { rejectMalformedRequests } from './malformed-request.js';
import { createReflection } from './reflection.js';

export interface GrpcServerConfig {
  /** Interface to bind. Default in services' config: 0.0.0.0. */
  host: string;
  /** Port to bind; 0 picks a free one (tests). */
  port: number;
  /** How long in-flight calls may run after shutdown starts before they are cancelled. */
  shutdownGraceMs: number;
}

/** One application service: its ts-proto definition and grpc-js handlers. */
export interface ServiceRegistration {
  // biome-ignore lint/suspicious/noExplicitAny: grpc-js's own definition type is untyped here.
  definition: ServiceDefinition<any>;
  implementation: UntypedServiceImplementation;
}

export interface GrpcServer {
  readonly health: Health;
  /** Binds and starts serving; resolves to the bound port. Health stays NOT_SERVING. */
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
 * A grpc-js server for one application's services, with health and
 * reflection that list exactly those services.
 */
export function createGrpcServer(
  config: GrpcServerConfig,
  services: readonly ServiceRegistration[],
  deps: { log: Logger; options?: ServerOptions },
): GrpcServer {
  const names = services.map((s) => serviceNameOf(s.definition));
  const health = createHealth(names);
  const reflection = createReflection(protoRegistry(), names);
  const server = new Server({
    // Let a client that lost its connection notice within a minute.
    'grpc.keepalive_time_ms': 60_000,
    'grpc.keepalive_timeout_ms': 20_000,
    ...deps.options,
  });
  for (const service of services) {
    const { definition, implementation } = rejectMalformedRequests(
      service.definition,
      service.implementation,
    );
    server.addService(definition, implementation);
  }
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
          (error, port) => (error ? reject(error) : resolve(port)),
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
