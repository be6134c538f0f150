import { type ServerWritableStream, status } from '@grpc/grpc-js';
import {
  type HealthCheckRequest,
  type HealthCheckResponse,
  type HealthServer,
  HealthService,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from '../gen/grpc/health/v1/health.pb.js';

export { ServingStatus };

/**
 * grpc.health.v1.Health for one server. Every name it knows (the empty
 * string for the whole server, and each service's full name) shares one
 * status: these services are ready or not as a whole.
 */
export interface Health {
  readonly definition: typeof HealthService;
  readonly implementation: HealthServer;
  readonly status: ServingStatus;
  /** SERVING once dependencies are ready; NOT_SERVING while they are not. */
  set(status: ServingStatus.SERVING | ServingStatus.NOT_SERVING): void;
  /** NOT_SERVING for good; ends every Watch stream so the server can drain. */
  shutdown(): void;
}

/** Starts NOT_SERVING: a server is not ready until its owner says so. */
export function createHealth(serviceNames: readonly string[]): Health {
  const names = new Set(['', ...serviceNames]);
  const watchers = new Set<ServerWritableStream<HealthCheckRequest, HealthCheckResponse>>();
  let current = ServingStatus.NOT_SERVING;
  let closed = false;

  const statusOf = (service: string) =>
    names.has(service) ? current : ServingStatus.SERVICE_UNKNOWN;

  function publish(next: ServingStatus): void {
    if (next === current) return;
    current = next;
    for (const call of watchers) call.write({ status: statusOf(call.request.service) });
  }

  const implementation: HealthServer = {
    check(call, callback) {
      const service = call.request.service;
      if (!names.has(service)) {
        callback({ code: status.NOT_FOUND, details: `unknown service ${JSON.stringify(service)}` });
        return;
      }
      callback(null, { status: current });
    },
    watch(call) {
      call.write({ status: statusOf(call.request.service) });
      if (closed) {
        call.end();
        return;
      }
      watchers.add(call);
      call.on('cancelled', () => watchers.delete(call));
    },
    list(_call, callback) {
      callback(null, {
        statuses: Object.fromEntries([...names].map((n) => [n, { status: current }])),
      });
    },
  };

  return {
    definition: HealthService,
    implementation,
    get status() {
      return current;
    },
    set(next) {
      if (!closed) publish(next);
    },
    shutdown() {
      publish(ServingStatus.NOT_SERVING);
      closed = true;
      for (const call of watchers) call.end();
      watchers.clear();
    },
  };
}
