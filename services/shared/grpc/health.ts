import { type ServerWritableStream, status } from '@grpc/grpc-js';
import {
  type HealthCheckRequest,
  type HealthCheckResponse,
  type HealthServer,
  HealthService,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from '../../gen/grpc/health/v1/health.pb.js';

export { ServingStatus };

/**
 * The name that answers "is the process alive", for liveness and startup
 * probes: SERVING from the moment the server listens until the process exits,
 * draining included, whatever its dependencies do. Readiness probes ask for
 * the empty name instead, which a database outage at start keeps NOT_SERVING;
 * probing that for liveness would restart a healthy, waiting pod in a loop.
 */
export const LIVENESS = 'liveness';

/**
 * grpc.health.v1.Health for one server. The names of readiness (the empty
 * string for the whole server, and each service's full name) share one
 * status: these services are ready or not as a whole. LIVENESS has its own.
 */
export interface Health {
  readonly definition: typeof HealthService;
  readonly implementation: HealthServer;
  /** The readiness status. */
  readonly status: ServingStatus;
  /** SERVING once dependencies are ready; NOT_SERVING while they are not. */
  set(status: ServingStatus.SERVING | ServingStatus.NOT_SERVING): void;
  /** The server listens: LIVENESS is SERVING from now on. */
  setListening(): void;
  /** Readiness NOT_SERVING for good; ends every Watch stream so the server can drain. */
  shutdown(): void;
}

/**
 * Starts NOT_SERVING: a server is not ready until its owner says so.
 * `onServing` runs (after the status is published) each time readiness
 * turns SERVING.
 */
export function createHealth(
  serviceNames: readonly string[],
  options: { onServing?: () => void } = {},
): Health {
  const names = new Set(['', ...serviceNames]);
  const watchers = new Set<ServerWritableStream<HealthCheckRequest, HealthCheckResponse>>();
  let current = ServingStatus.NOT_SERVING;
  let live = ServingStatus.NOT_SERVING;
  let closed = false;

  const known = (service: string) => names.has(service) || service === LIVENESS;
  const statusOf = (service: string) => {
    if (service === LIVENESS) return live;
    return names.has(service) ? current : ServingStatus.SERVICE_UNKNOWN;
  };

  function publish(update: () => void): void {
    const before = new Map([...watchers].map((call) => [call, statusOf(call.request.service)]));
    update();
    for (const call of watchers) {
      const now = statusOf(call.request.service);
      if (now !== before.get(call)) call.write({ status: now });
    }
  }

  const implementation: HealthServer = {
    check(call, callback) {
      const service = call.request.service;
      if (!known(service)) {
        callback({ code: status.NOT_FOUND, details: `unknown service ${JSON.stringify(service)}` });
        return;
      }
      callback(null, { status: statusOf(service) });
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
        statuses: Object.fromEntries([...names, LIVENESS].map((n) => [n, { status: statusOf(n) }])),
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
      if (closed) return;
      const was = current;
      publish(() => (current = next));
      if (next === ServingStatus.SERVING && was !== next) options.onServing?.();
    },
    setListening() {
      publish(() => (live = ServingStatus.SERVING));
    },
    shutdown() {
      publish(() => (current = ServingStatus.NOT_SERVING));
      closed = true;
      for (const call of watchers) call.end();
      watchers.clear();
    },
  };
}
