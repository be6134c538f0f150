// Runs a compiled service entry point (dist/, built by test/global-setup.ts)
// as its own process, as a pod would, and talks to it with the generated
// clients over a real socket.
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import {
  type CallOptions,
  type ClientUnaryCall,
  credentials,
  Metadata,
  type ServiceError,
} from '@grpc/grpc-js';
import {
  HealthClient,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from '../../services/gen/grpc/health/v1/health.pb.js';
import { ProductServiceClient } from '../../services/gen/shop/product/v1/product_service.pb.js';
import { UserServiceClient } from '../../services/gen/shop/user/v1/user_service.pb.js';
import { waitUntilServing } from '../../services/shared/wait-until-serving.js';

export { ServingStatus };

const repo = resolve(import.meta.dirname, '../..');

export interface LogLine {
  level: string;
  msg: string;
  [key: string]: unknown;
}

export interface ServiceProcess {
  readonly pid: number;
  /** The port from the `listening` log line. */
  readonly port: number;
  readonly address: string;
  /** Every JSON log line so far; other output is kept as `{ level: 'raw', msg }`. */
  readonly logs: readonly LogLine[];
  readonly running: boolean;
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  health(): Promise<ServingStatus>;
  waitServing(timeoutMs?: number): Promise<void>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** Starts `dist/services/<name>/main.js` on a free port and waits until it listens. */
export async function startService(
  name: 'user' | 'product',
  env: Record<string, string>,
): Promise<ServiceProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    [resolve(repo, `dist/services/${name}/main.js`)],
    {
      cwd: repo,
      stdio: ['ignore', 'pipe', 'pipe'],
      // LOG_LEVEL info at least: the port is read from the `listening` line.
      env: { PATH: process.env.PATH ?? '', GRPC_PORT: '0', GRPC_HOST: '127.0.0.1', ...env },
    },
  );
  const logs: LogLine[] = [];
  const waiters = new Set<() => void>();
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on('line', (text) => {
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        line = { level: 'raw', msg: text };
      }
      logs.push(line);
      for (const wake of waiters) wake();
    });
  }
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  process.once('exit', () => child.kill('SIGKILL'));

  async function waitForLog(match: (line: LogLine) => boolean, timeoutMs = 20_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = logs.find(match);
      if (found) return found;
      if (child.exitCode !== null) {
        throw new Error(`${name}-service exited with ${child.exitCode}:\n${dump(logs)}`);
      }
      if (Date.now() > deadline)
        throw new Error(`${name}-service: log line not seen:\n${dump(logs)}`);
      await new Promise<void>((wake) => {
        waiters.add(wake);
        setTimeout(wake, 100);
      }).finally(() => waiters.clear());
    }
  }

  const listening = await waitForLog((l) => l.msg === 'listening');
  const port = Number(listening.port);
  const address = `127.0.0.1:${port}`;
  const healthClient = new HealthClient(address, credentials.createInsecure());

  const health = () =>
    new Promise<ServingStatus>((done, fail) =>
      healthClient.check(
        { service: '' },
        new Metadata(),
        { deadline: Date.now() + 2000 },
        (error, response) => (error ? fail(error) : done(response.status)),
      ),
    );

  return {
    pid: child.pid ?? 0,
    port,
    address,
    logs,
    get running() {
      return child.exitCode === null && child.signalCode === null;
    },
    waitForLog,
    health,
    async waitServing(timeoutMs = 20_000) {
      await waitUntilServing(address, { timeoutMs, intervalMs: 100 }).catch((error: Error) => {
        throw new Error(`${name}-service ${error.message}:\n${dump(logs)}`);
      });
    },
    async stop() {
      healthClient.close();
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

function dump(logs: readonly LogLine[]): string {
  return logs
    .slice(-30)
    .map((l) => JSON.stringify(l))
    .join('\n');
}

type Callback<Res> = (error: ServiceError | null, response: Res) => void;
type Unary<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: Callback<Res>,
) => ClientUnaryCall;

/** One unary call as a promise, with a deadline. */
export function call<Req, Res>(method: Unary<Req, Res>, request: Req, timeoutMs = 10_000) {
  return new Promise<Res>((done, fail) =>
    method(request, new Metadata(), { deadline: Date.now() + timeoutMs }, (error, response) =>
      error ? fail(error) : done(response),
    ),
  );
}

/** Clients for one running UserService or ProductService. */
export function userClient(service: ServiceProcess) {
  return new UserServiceClient(service.address, credentials.createInsecure());
}

export function productClient(service: ServiceProcess) {
  return new ProductServiceClient(service.address, credentials.createInsecure());
}
