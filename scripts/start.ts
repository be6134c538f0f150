// `npm start`: runs UserService and ProductService as two processes, as they
// run in pods, with each log line prefixed by its service; prints the
// endpoints and grpcurl commands to try once both are serving; Ctrl-C stops
// both cleanly (a second Ctrl-C forces them).
//
// Options (after `npm start --`):
//   --user-port N      UserService port (default 50051)
//   --product-port N   ProductService port (default 50052)
//   --data-dir DIR     SQLite folder (default ./data)
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { credentials, Metadata } from '@grpc/grpc-js';
import { prettyFactory } from 'pino-pretty';
import {
  HealthCheckResponse_ServingStatus,
  HealthClient,
} from '../services/gen/grpc/health/v1/health.pb.js';

const repo = resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: {
    'user-port': { type: 'string', default: '50051' },
    'product-port': { type: 'string', default: '50052' },
    'data-dir': { type: 'string', default: 'data' },
  },
});
const userPort = Number(args['user-port']);
const productPort = Number(args['product-port']);

interface Spec {
  name: string;
  color: number;
  main: string;
  port: number;
  env: Record<string, string>;
}

const specs: Spec[] = [
  { name: 'user-service', color: 36, main: 'dist/services/user/main.js', port: userPort, env: {} },
  {
    name: 'product-service',
    color: 35,
    main: 'dist/services/product/main.js',
    port: productPort,
    env: { USER_SERVICE_ADDRESS: `localhost:${userPort}` },
  },
];

const tty = process.stdout.isTTY === true;
const pretty = prettyFactory({
  colorize: tty,
  ignore: 'pid,hostname,service',
  translateTime: 'SYS:HH:MM:ss.l',
  singleLine: true,
});

function pipeLines(child: ChildProcess, spec: Spec): void {
  const prefix = tty ? `\x1b[${spec.color}m${spec.name.padEnd(15)}\x1b[0m|` : `${spec.name} |`;
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on('line', (line) => {
      const text = tty && line.startsWith('{') ? pretty(line).trimEnd() : line;
      process.stdout.write(`${prefix} ${text}\n`);
    });
  }
}

const children = specs.map((spec) => {
  // Own process group: Ctrl-C reaches only this launcher, which then sends
  // each service exactly one SIGTERM, the signal Kubernetes sends.
  const child = spawn(process.execPath, [spec.main], {
    cwd: repo,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      GRPC_PORT: String(spec.port),
      DATA_DIR: resolve(args['data-dir'] ?? 'data'),
      ...spec.env,
    },
  });
  pipeLines(child, spec);
  return {
    spec,
    child,
    exited: new Promise<number>((done) => child.on('exit', (code) => done(code ?? 1))),
  };
});

let stopping = false;
let firstSignalAt = 0;
function stop(): void {
  for (const { child } of children) if (child.exitCode === null) child.kill('SIGTERM');
  stopping = true;
}
/**
 * One Ctrl-C arrives more than once: the terminal signals the whole process
 * group and npm forwards it too. Signals within a second count as one; a
 * later one is a second Ctrl-C, which the services take as "force exit".
 */
function onSignal(): void {
  const now = Date.now();
  if (firstSignalAt !== 0 && now - firstSignalAt < 1000) return;
  if (firstSignalAt === 0) firstSignalAt = now;
  else process.stdout.write('forcing exit\n');
  stop();
}
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

// One service dying takes the other down: a half-running system misleads.
for (const { spec, exited } of children) {
  void exited.then((code) => {
    if (!stopping) {
      process.stdout.write(`${spec.name} exited with code ${code}; stopping\n`);
      stop();
    }
  });
}

async function waitServing(port: number): Promise<void> {
  const client = new HealthClient(`localhost:${port}`, credentials.createInsecure());
  try {
    for (;;) {
      if (stopping) return;
      const serving = await new Promise<boolean>((done) =>
        client.check(
          { service: '' },
          new Metadata(),
          { deadline: Date.now() + 1000 },
          (error, response) =>
            done(!error && response.status === HealthCheckResponse_ServingStatus.SERVING),
        ),
      );
      if (serving) return;
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    client.close();
  }
}

await Promise.all(specs.map((spec) => waitServing(spec.port)));
if (!stopping) {
  const grpcurl = existsSync(join(repo, '.tools/bin/grpcurl')) ? '.tools/bin/grpcurl' : 'grpcurl';
  process.stdout.write(`
  UserService     localhost:${userPort}   (grpc, plaintext, reflection on)
  ProductService  localhost:${productPort}   (grpc, plaintext, reflection on)

  Try:
    ${grpcurl} -plaintext localhost:${userPort} list
    ${grpcurl} -plaintext -d '{"username":"ada","email":"ada@example.com"}' localhost:${userPort} shop.user.v1.UserService/CreateUser
    ${grpcurl} -plaintext -d '{"name":"Lamp","owner_id":"<id from above>","price":{"currency_code":"EUR","units":25}}' localhost:${productPort} shop.product.v1.ProductService/CreateProduct
    ${grpcurl} -plaintext localhost:${productPort} shop.product.v1.ProductService/ListProducts

  Ctrl-C stops both.
`);
}

const codes = await Promise.all(children.map((c) => c.exited));
const clean = codes.every((code) => code === 0);
process.stdout.write(
  clean ? 'both services stopped cleanly\n' : `services exited with ${codes.join(', ')}\n`,
);
process.exit(clean ? 0 : 1);
