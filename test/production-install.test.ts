// The image, without Docker: install the app the way the Dockerfile's
// runtime stage is made (production dependencies from the committed lockfile,
// compiled output, package.json) into a temp folder, with the Node version of
// the Dockerfile's base image, start both services with the Dockerfile's own
// CMD, pass a health check and calls that cross both services, and stop them
// with SIGTERM as Kubernetes does.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Metadata } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../scripts/lib/free-port.js';
import {
  productClientOf,
  type ServiceProcess,
  spawnService,
  userClientOf,
} from '../scripts/lib/spawn-service.js';
import { unaryCall } from '../services/shared/grpc/unary-call.js';

const repo = resolve(import.meta.dirname, '..');
const dockerfile = readFileSync(join(repo, 'Dockerfile'), 'utf8');

/** The exec-form CMD of a Dockerfile target (`FROM … AS <target>`). */
function commandOf(target: string): string[] {
  const stage = dockerfile.split(/^FROM /m).find((s) => new RegExp(` AS ${target}\\s`).test(s));
  const cmd = stage?.match(/^CMD (\[.*\])$/m)?.[1];
  if (!cmd) throw new Error(`Dockerfile: no exec-form CMD in target ${target}`);
  return JSON.parse(cmd) as string[];
}

/**
 * The image's Node (ARG NODE_IMAGE=node:<version>-…), fetched into .tools/node:
 * native addons and runtime behaviour differ between Node majors, so the
 * install runs on the version the image ships, not the one running the tests.
 */
const nodeVersion = /^ARG NODE_IMAGE=node:(\d+\.\d+\.\d+)-/m.exec(dockerfile)?.[1];
if (!nodeVersion) throw new Error('Dockerfile: no ARG NODE_IMAGE=node:<x.y.z>-…');
const nodeHome = execFileSync(join(repo, 'scripts/install-node.sh'), [nodeVersion], {
  encoding: 'utf8',
}).trim();
const node = join(nodeHome, 'bin', 'node');
/** npm and node-gyp with the image's Node and its headers (better-sqlite3 compiles from source here). */
const withImageNode = (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv => ({
  ...env,
  PATH: `${join(nodeHome, 'bin')}:${env.PATH ?? ''}`,
  npm_config_nodedir: nodeHome,
});

let app: string;

/** A service started with the Dockerfile's CMD for its target, in the install, on the image's Node. */
function start(name: 'user' | 'product', env: Record<string, string>): Promise<ServiceProcess> {
  const [command, ...args] = commandOf(`${name}-service`);
  expect(command).toBe('node');
  return spawnService(name, {
    cwd: app,
    node,
    args,
    // What a container gets: no inherited test or developer environment.
    env: {
      PATH: withImageNode(process.env).PATH ?? '',
      NODE_ENV: 'production',
      DATA_DIR: join(app, 'data', name),
      ...env,
    },
  });
}

describe('production install (as the Dockerfile builds it)', () => {
  let user: ServiceProcess;
  let product: ServiceProcess;
  let metricsPort: number;

  beforeAll(async () => {
    app = mkdtempSync(join(tmpdir(), 'production-install-'));
    for (const file of ['package.json', 'package-lock.json']) {
      copyFileSync(join(repo, file), join(app, file));
    }
    // Stage production-dependencies: npm ci --omit=dev from the lockfile.
    execFileSync('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund'], {
      cwd: app,
      env: withImageNode(process.env),
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    // Stage build: the compiled services, as `npx tsc -p tsconfig.build.json` makes them.
    execFileSync(
      process.execPath,
      [
        join(repo, 'node_modules/typescript/bin/tsc'),
        '-p',
        'tsconfig.build.json',
        '--outDir',
        join(app, 'dist'),
      ],
      { cwd: repo, stdio: 'inherit' },
    );
    const preload = commandOf('user-service')[2] ?? '';
    if (!existsSync(join(app, preload))) {
      throw new Error(`the Dockerfile's tracing preload ${preload} was not built`);
    }

    metricsPort = await freePort();
    user = await start('user', { METRICS_PORT: String(metricsPort) });
    product = await start('product', {
      USER_SERVICE_ADDRESS: user.address,
      METRICS_PORT: String(await freePort()),
    });
  }, 600_000);

  afterAll(async () => {
    await Promise.all([user?.stop('SIGKILL'), product?.stop('SIGKILL')]);
    if (app) rmSync(app, { recursive: true, force: true });
  });

  it('runs on the Node version of the image', () => {
    expect(execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()).toBe(`v${nodeVersion}`);
  });

  it('has production dependencies only', () => {
    const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    for (const name of Object.keys(pkg.dependencies)) {
      expect(existsSync(join(app, 'node_modules', name)), name).toBe(true);
    }
    for (const name of ['typescript', 'vitest', 'tsx', '@biomejs/biome', 'ts-proto']) {
      expect(existsSync(join(app, 'node_modules', name)), name).toBe(false);
    }
  });

  it('serves a call that crosses both services', async () => {
    const users = userClientOf(user);
    const products = productClientOf(product);
    try {
      const { user: created } = await unaryCall(users, 'createUser', {
        username: 'prod_install',
        email: 'prod-install@example.com',
        requestId: '',
      });
      const { product: made } = await unaryCall(
        products,
        'createProduct',
        {
          name: 'Kettle',
          ownerId: created?.id ?? '',
          price: { currencyCode: 'EUR', units: 25n, nanos: 0 },
          requestId: '',
        },
        {},
        new Metadata(),
      );
      expect(made?.ownerId).toBe(created?.id);
      // Enough calls to make garbage and run the GC in both processes: native
      // addons that mishandle finalization abort here, not in a unit test.
      for (let i = 0; i < 300; i++) {
        await unaryCall(products, 'listProducts', { pageSize: 10, pageToken: '', ownerId: '' });
      }
      expect(user.running).toBe(true);
      expect(product.running).toBe(true);
    } finally {
      users.close();
      products.close();
    }
  });

  it('serves Prometheus metrics from the tracing preload', async () => {
    const response = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(response.status).toBe(200);
  });

  it('stops cleanly on SIGTERM (node is PID 1 in the image: the signal reaches it directly)', async () => {
    for (const service of [product, user]) {
      expect(await service.stop('SIGTERM'), service.tail()).toBe(0);
    }
  });
});
