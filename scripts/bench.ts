// `npm run bench`: load-tests both services with ghz (a real gRPC load
// generator, through server reflection) and prints throughput and latency
// percentiles per RPC. Benchmarks, not timed tests, are how this project
// talks about speed: run it on a quiet machine and compare runs, not numbers
// from different machines.
//
// It starts its own UserService and ProductService (compiled, real entry
// points, SQLite in a temp folder) on free ports, seeds data, then runs each
// scenario. ghz counts the calls still in flight when a scenario's time is up
// as Unavailable: about `concurrency` of them per scenario is that, not a
// failure. Options (after `npm run bench --`):
//   --duration 10s     per scenario (default 10s)
//   --concurrency 50   in-flight calls (default 50)
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { credentials, Metadata } from '@grpc/grpc-js';
import { HealthClient } from '../services/gen/grpc/health/v1/health.pb.js';
import { ProductServiceClient } from '../services/gen/shop/product/v1/product_service.pb.js';
import { UserServiceClient } from '../services/gen/shop/user/v1/user_service.pb.js';

const repo = resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10s' },
    concurrency: { type: 'string', default: '50' },
  },
});

execFileSync(join(repo, 'scripts/install-tools.sh'), ['ghz'], { stdio: 'inherit' });
execFileSync(
  process.execPath,
  [join(repo, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
  {
    cwd: repo,
    stdio: 'inherit',
  },
);

const freePort = () =>
  new Promise<number>((done) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });

const dataDir = mkdtempSync(join(tmpdir(), 'shop-bench-'));
const [userPort, productPort] = [await freePort(), await freePort()];
const user = `127.0.0.1:${userPort}`;
const product = `127.0.0.1:${productPort}`;
const children = [
  ['user', { GRPC_PORT: String(userPort) }],
  ['product', { GRPC_PORT: String(productPort), USER_SERVICE_ADDRESS: user }],
].map(([service, env]) =>
  spawn(process.execPath, [`dist/services/${service}/main.js`], {
    cwd: repo,
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      ...(env as Record<string, string>),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  }),
);
const stop = () => {
  for (const child of children) child.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
};
process.on('exit', stop);

function call<Res>(start: (cb: (error: Error | null, res: Res) => void) => void): Promise<Res> {
  return new Promise((done, fail) => start((error, res) => (error ? fail(error) : done(res))));
}

for (const address of [user, product]) {
  const health = new HealthClient(address, credentials.createInsecure());
  for (;;) {
    const ok = await call<{ status: number }>((cb) =>
      health.check({ service: '' }, new Metadata(), { deadline: Date.now() + 1000 }, cb),
    ).then(
      (r) => r.status === 1,
      () => false,
    );
    if (ok) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  health.close();
}

// Seed: 100 owners, 5 products each, so ListProducts pages resolve many owners.
const users = new UserServiceClient(user, credentials.createInsecure());
const ownerIds: string[] = [];
for (let i = 0; i < 100; i++) {
  const { user: created } = await call<{ user?: { id: string } }>((cb) =>
    users.createUser({ username: `bench${i}`, email: `bench${i}@example.com`, requestId: '' }, cb),
  );
  ownerIds.push(created?.id ?? '');
}
users.close();
const ghz = join(repo, '.tools/bin/ghz');
const base = [
  '--insecure',
  '--duration',
  args.duration ?? '10s',
  '--concurrency',
  args.concurrency ?? '50',
  '--format',
  'json',
];
for (const [i, ownerId] of ownerIds.entries()) {
  if (i % 20 === 0) process.stdout.write('.');
  execFileSync(ghz, [
    '--insecure',
    '--total',
    '5',
    '--concurrency',
    '1',
    '--call',
    'shop.product.v1.ProductService/CreateProduct',
    '--data',
    JSON.stringify({
      name: `item of ${i}`,
      owner_id: ownerId,
      price: { currency_code: 'EUR', units: 10 },
    }),
    product,
  ]);
}
process.stdout.write('\n');

const productId = await call<{ products: { id: string }[] }>((cb) =>
  new ProductServiceClient(product, credentials.createInsecure()).listProducts(
    { pageSize: 1, pageToken: '', ownerId: '' },
    cb,
  ),
).then((r) => r.products[0]?.id ?? '');

const scenarios: [string, string, string, unknown][] = [
  ['UserService/GetUser', user, 'shop.user.v1.UserService/GetUser', { id: ownerIds[0] }],
  [
    'UserService/BatchGetUsers (100 ids)',
    user,
    'shop.user.v1.UserService/BatchGetUsers',
    { ids: ownerIds },
  ],
  [
    'UserService/CreateUser',
    user,
    'shop.user.v1.UserService/CreateUser',
    { username: 'user{{.RequestNumber}}', email: 'user{{.RequestNumber}}@example.com' },
  ],
  [
    'ProductService/GetProduct',
    product,
    'shop.product.v1.ProductService/GetProduct',
    { id: productId },
  ],
  [
    'ProductService/ListProducts (50/page)',
    product,
    'shop.product.v1.ProductService/ListProducts',
    { page_size: 50 },
  ],
  [
    'ProductService/CreateProduct',
    product,
    'shop.product.v1.ProductService/CreateProduct',
    { name: 'bench', owner_id: ownerIds[1], price: { currency_code: 'EUR', units: 1 } },
  ],
];

interface Report {
  rps: number;
  count: number;
  latencyDistribution: { percentage: number; latency: number }[] | null;
  statusCodeDistribution: Record<string, number>;
}
const ms = (ns: number | undefined) => (ns === undefined ? '-' : (ns / 1e6).toFixed(2));
console.log(
  `\nconcurrency ${args.concurrency}, ${args.duration} per scenario, node ${process.version}\n`,
);
console.log(
  'scenario                                  rps      p50 ms   p95 ms   p99 ms   statuses',
);
for (const [name, address, method, data] of scenarios) {
  const out = execFileSync(
    ghz,
    [...base, '--call', method, '--data', JSON.stringify(data), address],
    {
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  const report = JSON.parse(out.toString()) as Report;
  const p = (q: number) => ms(report.latencyDistribution?.find((d) => d.percentage === q)?.latency);
  console.log(
    `${name.padEnd(40)} ${report.rps.toFixed(0).padStart(6)} ${p(50).padStart(8)} ${p(95).padStart(8)} ${p(99).padStart(8)}   ${JSON.stringify(report.statusCodeDistribution)}`,
  );
}
stop();
