// `npm start`: runs UserService and ProductService as two processes, as they
// run in pods, with each log line prefixed by its service; prints the
// endpoints and grpcurl commands to try once both are serving; Ctrl-C stops
// both cleanly (a second Ctrl-C forces them).
//
// Options (after `npm start --`):
//   --user-port N      UserService port (default 50051)
//   --product-port N   ProductService port (default 50052)
//   --data-dir DIR     SQLite folder (default ./data)
//   --jaeger           also run the pinned Jaeger (.tools/bin/jaeger, built on
//                      first use) and send both services' spans to it: UI and
//                      query API on http://localhost:16686, OTLP on :4317
//
// Each service runs with the telemetry preload, as in its container, so its
// Prometheus metrics are on :9464 (user) and :9465 (product).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { prettyFactory } from 'pino-pretty';
import { waitUntilServing } from '../services/shared/wait-until-serving.js';

const repo = resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: {
    'user-port': { type: 'string', default: '50051' },
    'product-port': { type: 'string', default: '50052' },
    'data-dir': { type: 'string', default: 'data' },
    jaeger: { type: 'boolean', default: false },
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

/** The preload that starts OpenTelemetry before the entry point loads (see its header). */
const preload = './dist/services/shared/telemetry/register.js';
const jaegerQuery = 'http://localhost:16686';

const tty = process.stdout.isTTY === true;
const pretty = prettyFactory({
  colorize: tty,
  ignore: 'pid,hostname,service',
  translateTime: 'SYS:HH:MM:ss.l',
  singleLine: true,
});

function pipeLines(child: ChildProcess, spec: Pick<Spec, 'name' | 'color'>): void {
  const prefix = tty ? `\x1b[${spec.color}m${spec.name.padEnd(15)}\x1b[0m|` : `${spec.name} |`;
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on('line', (line) => {
      const text = tty && line.startsWith('{') ? pretty(line).trimEnd() : line;
      process.stdout.write(`${prefix} ${text}\n`);
    });
  }
}

/** Starts the pinned Jaeger (building it first if needed) and resolves once its API answers. */
async function startJaeger(): Promise<ChildProcess> {
  if (!existsSync(join(repo, '.tools/bin/jaeger'))) {
    process.stdout.write('Building Jaeger into .tools/bin (the first time takes minutes)…\n');
    execFileSync(join(repo, 'scripts/install-tools.sh'), ['jaeger'], { stdio: 'inherit' });
  }
  const child = spawn(
    join(repo, '.tools/bin/jaeger'),
    ['--config', `file:${join(repo, 'tools/jaeger/all-in-one.yaml')}`],
    { cwd: repo, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  pipeLines(child, { name: 'jaeger', color: 33 });
  for (;;) {
    if (child.exitCode !== null) throw new Error(`jaeger exited with code ${child.exitCode}`);
    if (
      await fetch(`${jaegerQuery}/api/services`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return child;
    await new Promise((r) => setTimeout(r, 200));
  }
}

const jaeger = args.jaeger ? await startJaeger() : undefined;

const children = specs.map((spec) => {
  // Own process group: Ctrl-C reaches only this launcher, which then sends
  // each service exactly one SIGTERM, the signal Kubernetes sends.
  const child = spawn(process.execPath, ['--import', preload, spec.main], {
    cwd: repo,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      GRPC_PORT: String(spec.port),
      DATA_DIR: resolve(args['data-dir'] ?? 'data'),
      ...(jaeger ? { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4317' } : {}),
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

await Promise.all(
  specs.map((spec) =>
    waitUntilServing(`localhost:${spec.port}`, {
      timeoutMs: Number.POSITIVE_INFINITY,
      abandon: () => (stopping ? 'stopping' : undefined),
    }).catch(() => {}),
  ),
);
if (!stopping) {
  const grpcurl = existsSync(join(repo, '.tools/bin/grpcurl')) ? '.tools/bin/grpcurl' : 'grpcurl';
  process.stdout.write(`
  UserService     localhost:${userPort}   (grpc, plaintext, reflection on)
  ProductService  localhost:${productPort}   (grpc, plaintext, reflection on)
  Metrics         http://localhost:9464/metrics (user)  http://localhost:9465/metrics (product)
${
  jaeger
    ? `  Jaeger          ${jaegerQuery}  (query API; spans arrive about a second after a call)
`
    : ''
}
  Try:
    ${grpcurl} -plaintext localhost:${userPort} list
    ${grpcurl} -plaintext -d '{"username":"ada","email":"ada@example.com"}' localhost:${userPort} shop.user.v1.UserService/CreateUser
    ${grpcurl} -plaintext -d '{"name":"Lamp","owner_id":"<id from above>","price":{"currency_code":"EUR","units":25}}' localhost:${productPort} shop.product.v1.ProductService/CreateProduct
    ${grpcurl} -plaintext localhost:${productPort} shop.product.v1.ProductService/ListProducts
${
  jaeger
    ? `
  Then its trace (the trace_id is also on the call's "rpc" log line):
    curl -s '${jaegerQuery}/api/traces?service=product-service&limit=1' | jq '.data[0].spans[] | .operationName'
`
    : ''
}
  Ctrl-C stops both.
`);
}

const codes = await Promise.all(children.map((c) => c.exited));
const clean = codes.every((code) => code === 0);
process.stdout.write(
  clean ? 'both services stopped cleanly\n' : `services exited with ${codes.join(', ')}\n`,
);
// Jaeger last, so the services' final spans reach it on their way out.
if (jaeger && jaeger.exitCode === null) {
  const exited = new Promise((done) => jaeger.once('exit', done));
  jaeger.kill('SIGTERM');
  await exited;
}
process.exit(clean ? 0 : 1);
