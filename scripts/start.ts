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
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { prettyFactory } from 'pino-pretty';
import { repo } from './lib/child-process.js';
import { type Jaeger, jaegerBinary, startJaeger } from './lib/jaeger.js';
import { type ServiceName, type ServiceProcess, spawnService } from './lib/spawn-service.js';

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
const jaegerQueryUrl = 'http://localhost:16686';

const tty = process.stdout.isTTY === true;
const pretty = prettyFactory({
  colorize: tty,
  ignore: 'pid,hostname,service',
  translateTime: 'SYS:HH:MM:ss.l',
  singleLine: true,
});

/** Prints a child's lines prefixed by its name, pretty in a terminal. */
function printer(name: string, color: number): (line: string) => void {
  const prefix = tty ? `\x1b[${color}m${name.padEnd(15)}\x1b[0m|` : `${name} |`;
  return (line) => {
    const text = tty && line.startsWith('{') ? pretty(line).trimEnd() : line;
    process.stdout.write(`${prefix} ${text}\n`);
  };
}

/** The pinned Jaeger (built first if needed) on its usual ports. */
async function runJaeger(): Promise<Jaeger> {
  if (!existsSync(jaegerBinary)) {
    process.stdout.write('Building Jaeger into .tools/bin (the first time takes minutes)…\n');
    execFileSync(join(repo, 'scripts/install-tools.sh'), ['jaeger'], { stdio: 'inherit' });
  }
  return startJaeger({
    ports: { otlp: 4317, query: 16686, queryGrpc: 16685 },
    detached: true,
    onLine: printer('jaeger', 33),
  });
}

/**
 * The grpcurl command the "Try:" lines use: the pinned one when built, else
 * one on PATH; undefined when there is none.
 */
function grpcurlCommand(): string | undefined {
  if (existsSync(join(repo, '.tools/bin/grpcurl'))) return '.tools/bin/grpcurl';
  const onPath = (process.env.PATH ?? '')
    .split(':')
    .some((dir) => dir && existsSync(join(dir, 'grpcurl')));
  return onPath ? 'grpcurl' : undefined;
}

const jaeger = args.jaeger ? await runJaeger() : undefined;

const specs: { name: ServiceName; color: number; port: number; env: Record<string, string> }[] = [
  { name: 'user', color: 36, port: userPort, env: {} },
  {
    name: 'product',
    color: 35,
    port: productPort,
    env: { USER_SERVICE_ADDRESS: `localhost:${userPort}` },
  },
];
const children: ServiceProcess[] = await Promise.all(
  specs.map((spec) =>
    spawnService(spec.name, {
      port: spec.port,
      inheritEnv: true,
      // Own process group: Ctrl-C reaches only this launcher, which then sends
      // each service exactly one SIGTERM, the signal Kubernetes sends.
      detached: true,
      wait: false,
      env: {
        // Reachable from other machines' grpcurl too, as in a pod.
        GRPC_HOST: '0.0.0.0',
        DATA_DIR: resolve(args['data-dir'] ?? 'data'),
        ...(jaeger ? { OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpEndpoint } : {}),
        ...spec.env,
      },
      onLine: printer(`${spec.name}-service`, spec.color),
    }),
  ),
);

let stopping = false;
let firstSignalAt = 0;
function stop(): void {
  for (const child of children) if (child.running) child.process.kill('SIGTERM');
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
for (const child of children) {
  void child.exited.then((code) => {
    if (!stopping) {
      process.stdout.write(`${child.service} exited with code ${code}; stopping\n`);
      stop();
    }
  });
}

await Promise.all(
  children.map((child) => child.waitServing(Number.POSITIVE_INFINITY).catch(() => {})),
);
if (!stopping) {
  const grpcurl = grpcurlCommand();
  const cmd = grpcurl ?? 'grpcurl';
  process.stdout.write(`
  UserService     localhost:${userPort}   (grpc, plaintext, reflection on)
  ProductService  localhost:${productPort}   (grpc, plaintext, reflection on)
  Metrics         http://localhost:9464/metrics (user)  http://localhost:9465/metrics (product)
${
  jaeger
    ? `  Jaeger          ${jaegerQueryUrl}  (query API; spans arrive about a second after a call)
`
    : ''
}${
  grpcurl
    ? ''
    : `
  grpcurl is not installed: build the pinned one into .tools/bin with
    scripts/install-tools.sh grpcurl
  (or install grpcurl on your PATH), then run the commands below.
`
}
  Try:
    ${cmd} -plaintext localhost:${userPort} list
    ${cmd} -plaintext -d '{"username":"grace","email":"grace@example.com"}' localhost:${userPort} shop.user.v1.UserService/CreateUser
    ${cmd} -plaintext -d '{"name":"Lamp","owner_id":"<id from above>","price":{"currency_code":"EUR","units":25}}' localhost:${productPort} shop.product.v1.ProductService/CreateProduct
    ${cmd} -plaintext localhost:${productPort} shop.product.v1.ProductService/ListProducts
    npm run example        (the typed TypeScript client: a fresh user each run)
${
  jaeger
    ? `
  Then its trace, drawn in the terminal:
    npm run trace -- --last product-service
    npm run trace -- <trace_id>     (the trace_id is on the call's "rpc" log line)
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
await jaeger?.stop();
process.exit(clean ? 0 : 1);
