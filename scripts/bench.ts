// `npm run bench`: load-tests both services with ghz (a real gRPC load
// generator, through server reflection) and prints throughput and latency
// percentiles per RPC. Benchmarks, not timed tests, are how this project
// talks about speed: run it on a quiet machine and compare runs, not numbers
// from different machines.
//
// It starts UserService and ProductService as they run in pods (compiled
// entry points with the telemetry preload, SQLite in a temp folder) on free
// ports, with the harness the tests use (scripts/lib/spawn-services.ts), seeds data, then runs each
// scenario. ghz counts the calls still in flight when a scenario's time is up
// as Unavailable: about `concurrency` of them per scenario is that, not a
// failure. Options (after `npm run bench --`):
//   --duration 10s     per scenario (default 10s)
//   --concurrency 50   in-flight calls (default 50)
//   --tracing          also run the pinned Jaeger and export every span to it,
//                      then report spans exported and dropped (queue full)
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { unaryCall } from '../services/shared/grpc/unary-call.js';
import { startJaeger } from './lib/jaeger.js';
import { spawnServices } from './lib/spawn-services.js';

const repo = resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10s' },
    concurrency: { type: 'string', default: '50' },
    tracing: { type: 'boolean', default: false },
  },
});

execFileSync(join(repo, 'scripts/install-tools.sh'), ['ghz', ...(args.tracing ? ['jaeger'] : [])], {
  stdio: 'inherit',
});
execFileSync(
  process.execPath,
  [join(repo, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
  {
    cwd: repo,
    stdio: 'inherit',
  },
);

const jaeger = args.tracing ? await startJaeger() : undefined;
const services = await spawnServices({
  // Log level as in production: the access line per call is part of the cost.
  env: jaeger ? { OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpEndpoint } : {},
});
const { user, product } = services;

// Seed: 100 owners with 5 products each, so ListProducts pages resolve many owners.
const ownerIds: string[] = [];
for (let i = 0; i < 100; i++) {
  const { user: created } = await unaryCall(services.userClient, 'createUser', {
    username: `bench${i}`,
    email: `bench${i}@example.com`,
    requestId: '',
  });
  const ownerId = created?.id ?? '';
  ownerIds.push(ownerId);
  for (let j = 0; j < 5; j++) {
    await unaryCall(services.productClient, 'createProduct', {
      name: `item ${j} of ${i}`,
      ownerId,
      price: { currencyCode: 'EUR', units: 10n, nanos: 0 },
      requestId: '',
    });
  }
}
const productId = await unaryCall(services.productClient, 'listProducts', {
  pageSize: 1,
  pageToken: '',
  ownerId: '',
}).then((r) => r.products[0]?.id ?? '');

const scenarios: [string, string, string, unknown][] = [
  ['UserService/GetUser', user.address, 'shop.user.v1.UserService/GetUser', { id: ownerIds[0] }],
  [
    'UserService/BatchGetUsers (100 ids)',
    user.address,
    'shop.user.v1.UserService/BatchGetUsers',
    { ids: ownerIds },
  ],
  [
    'UserService/CreateUser',
    user.address,
    'shop.user.v1.UserService/CreateUser',
    { username: 'user{{.RequestNumber}}', email: 'user{{.RequestNumber}}@example.com' },
  ],
  [
    'ProductService/GetProduct',
    product.address,
    'shop.product.v1.ProductService/GetProduct',
    { id: productId },
  ],
  [
    'ProductService/ListProducts (50/page)',
    product.address,
    'shop.product.v1.ProductService/ListProducts',
    { page_size: 50 },
  ],
  [
    'ProductService/CreateProduct',
    product.address,
    'shop.product.v1.ProductService/CreateProduct',
    { name: 'bench', owner_id: ownerIds[1], price: { currency_code: 'EUR', units: 1 } },
  ],
];

interface Report {
  rps: number;
  latencyDistribution: { percentage: number; latency: number }[] | null;
  statusCodeDistribution: Record<string, number>;
}
const ghz = join(repo, '.tools/bin/ghz');
const ms = (ns: number | undefined) => (ns === undefined ? '-' : (ns / 1e6).toFixed(2));
console.log(
  `\nconcurrency ${args.concurrency}, ${args.duration} per scenario, node ${process.version}, tracing ${jaeger ? 'on (every span exported to Jaeger)' : 'off'}\n`,
);
console.log(
  'scenario                                    rps   p50 ms   p95 ms   p99 ms   statuses',
);
for (const [name, address, method, data] of scenarios) {
  const out = execFileSync(
    ghz,
    [
      '--insecure',
      '--duration',
      args.duration ?? '10s',
      '--concurrency',
      args.concurrency ?? '50',
      '--format',
      'json',
      '--call',
      method,
      '--data',
      JSON.stringify(data),
      address,
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  const report = JSON.parse(out.toString()) as Report;
  const p = (q: number) => ms(report.latencyDistribution?.find((d) => d.percentage === q)?.latency);
  console.log(
    `${name.padEnd(40)} ${report.rps.toFixed(0).padStart(6)} ${p(50).padStart(8)} ${p(95).padStart(8)} ${p(99).padStart(8)}   ${JSON.stringify(report.statusCodeDistribution)}`,
  );
}

if (jaeger) {
  // Let the batch processors flush, then read their own counters.
  await new Promise((r) => setTimeout(r, 3000));
  console.log('\nspans (otel_sdk_processor_span_processed_total):');
  for (const [name, service] of [
    ['user-service', user],
    ['product-service', product],
  ] as const) {
    const text = await (await fetch(service.metricsUrl)).text();
    const sum = (match: (labels: string) => boolean) =>
      text
        .split('\n')
        .filter((l) => l.startsWith('otel_sdk_processor_span_processed_total'))
        .filter((l) => match(l.slice(l.indexOf('{'), l.lastIndexOf('}') + 1)))
        .reduce((total, l) => total + Number(l.split(' ').pop()), 0);
    const dropped = sum((labels) => labels.includes('error_type="queue_full"'));
    const processed = sum((labels) => !labels.includes('error_type='));
    console.log(`  ${name.padEnd(16)} exported ${processed}, dropped (queue full) ${dropped}`);
  }
}

await services.stop();
await jaeger?.stop();
