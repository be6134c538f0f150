// The one harness that runs a compiled service (dist/, `npm run build`) as its
// own process, exactly as a pod starts it, for tests, the benchmark and the
// launcher. Ready means its health service says SERVING.
import { credentials, Metadata } from '@grpc/grpc-js';
import {
  HealthClient,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from '../../services/gen/grpc/health/v1/health.pb.js';
import { ProductServiceClient } from '../../services/gen/shop/product/v1/product_service.pb.js';
import { UserServiceClient } from '../../services/gen/shop/user/v1/user_service.pb.js';
import { baseEnv, type Child, repo, spawnChild } from './child-process.js';
import { freePort } from './free-port.js';
import { createMemoryCgroup, type MemoryCgroup } from './memory-cgroup.js';
import { waitUntilServing } from './wait-until-serving.js';

export { ServingStatus };

/** The services, by the folder name under services/. */
export type ServiceName = 'user' | 'product';

/** `user-service`: the name in logs, traces, metrics and manifests. */
export const serviceId = (name: ServiceName) => `${name}-service` as const;

/** The command line a pod runs (see the Dockerfile): the telemetry preload, then the entry point. */
export function serviceArgs(name: ServiceName, options: { telemetry?: boolean } = {}): string[] {
  const main = `dist/services/${name}/main.js`;
  return options.telemetry === false
    ? [main]
    : ['--import', `./dist/services/${name}/preload.js`, main];
}

export interface SpawnServiceOptions {
  /** On top of PATH, HOME, GRPC_HOST=127.0.0.1 and GRPC_PORT (or of process.env with inheritEnv). */
  env?: Record<string, string>;
  /** Start from this process's whole environment (the launcher) rather than PATH and HOME only. */
  inheritEnv?: boolean;
  /** The gRPC port; default: a free one. */
  port?: number;
  /** The folder holding dist/ (default: this checkout). */
  cwd?: string;
  /** The node binary (default: the one running this). */
  node?: string;
  /** The arguments to node (default: serviceArgs(name, { telemetry }), as in the pod). */
  args?: readonly string[];
  /**
   * Start with the telemetry preload, as pods do (default true). Off where
   * several copies of a service share the machine and would all want its
   * default metrics port.
   */
  telemetry?: boolean;
  /**
   * Wait until health says SERVING (default), or return as soon as the
   * process is spawned (to watch it fail, or wait later with waitServing).
   */
  wait?: boolean;
  /** How long to wait for SERVING (default 30 s). */
  timeoutMs?: number;
  /**
   * Run inside a memory cgroup with this limit, as a pod's container runs
   * (scripts/lib/memory-cgroup.ts): for tests of memory under load.
   */
  memoryLimitBytes?: number;
  /** See SpawnOptions. */
  detached?: boolean;
  onLine?: (line: string) => void;
}

export interface ServiceProcess extends Child {
  readonly service: ReturnType<typeof serviceId>;
  readonly port: number;
  /** `127.0.0.1:<port>`. */
  readonly address: string;
  /** grpc.health.v1 Check of the server as a whole (or of `service`). */
  health(service?: string): Promise<ServingStatus>;
  /** Resolves once health says SERVING; fails early with the output if the process exits. */
  waitServing(timeoutMs?: number): Promise<void>;
  /** With memoryLimitBytes: the cgroup it runs in (removed once the process exits). */
  readonly memoryCgroup?: MemoryCgroup;
}

export async function spawnService(
  name: ServiceName,
  options: SpawnServiceOptions = {},
): Promise<ServiceProcess> {
  // A port free a moment ago can be handed out again by the next freePort():
  // never give the gRPC and metrics ports the same number (a caller's
  // METRICS_PORT, picked just before, included).
  const taken = new Set([options.port, Number(options.env?.METRICS_PORT)].filter(Boolean));
  const pick = async () => {
    for (;;) {
      const candidate = await freePort();
      if (!taken.has(candidate)) {
        taken.add(candidate);
        return candidate;
      }
    }
  };
  const port = options.port ?? (await pick());
  const address = `127.0.0.1:${port}`;
  // Each copy gets its own metrics port, so copies (and parallel test files) never collide.
  const metricsPort: Record<string, string> =
    options.telemetry === false || options.env?.METRICS_PORT
      ? {}
      : { METRICS_PORT: String(await pick()) };
  const node = options.node ?? process.execPath;
  const args = options.args ?? serviceArgs(name, { telemetry: options.telemetry });
  const memoryCgroup =
    options.memoryLimitBytes === undefined
      ? undefined
      : createMemoryCgroup(serviceId(name), options.memoryLimitBytes);
  const command = memoryCgroup ? memoryCgroup.wrap(node, args) : { command: node, args: [...args] };
  const child = spawnChild(serviceId(name), command.command, command.args, {
    cwd: options.cwd ?? repo,
    env: {
      ...(options.inheritEnv ? (process.env as Record<string, string>) : baseEnv()),
      GRPC_HOST: '127.0.0.1',
      GRPC_PORT: String(port),
      ...metricsPort,
      ...options.env,
    },
    detached: options.detached,
    onLine: options.onLine,
  });
  if (memoryCgroup) {
    void child.exited
      .then(() => memoryCgroup.remove())
      .catch((error: Error) => console.warn(`${memoryCgroup.path} stays: ${error.message}`));
  }
  const service: ServiceProcess = Object.assign(Object.create(child) as Child, {
    service: serviceId(name),
    port,
    address,
    memoryCgroup,
    health(healthService = '') {
      const client = new HealthClient(address, credentials.createInsecure());
      return new Promise<ServingStatus>((resolve, reject) =>
        client.check(
          { service: healthService },
          new Metadata(),
          { deadline: Date.now() + 2000 },
          (error, response) => {
            client.close();
            if (error) reject(error);
            else resolve(response.status);
          },
        ),
      );
    },
    async waitServing(timeoutMs = options.timeoutMs ?? 30_000) {
      await waitUntilServing(address, {
        timeoutMs,
        intervalMs: 100,
        abandon: () => (child.running ? undefined : `exited (${child.process.exitCode})`),
      }).catch((error: Error) => {
        throw new Error(`${serviceId(name)} ${error.message}:\n${child.tail()}`);
      });
    },
  });
  if (options.wait !== false) await service.waitServing();
  return service;
}

/** A plaintext client of a running UserService. */
export const userClientOf = (service: { address: string }) =>
  new UserServiceClient(service.address, credentials.createInsecure());

/** A plaintext client of a running ProductService. */
export const productClientOf = (service: { address: string }) =>
  new ProductServiceClient(service.address, credentials.createInsecure());
