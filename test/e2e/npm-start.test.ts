// End to end: the real `npm start` (build, launcher, two service processes)
// driven by the real grpcurl binary through server reflection, with no proto
// files on the caller's side.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { freePort } from '../../scripts/lib/free-port.js';
import { grpcurl, grpcurlJson, repo } from '../support/grpcurl.js';
import { pidListeningOn } from '../support/listening-pid.js';

let launcher: ChildProcess;
let output = '';
let exited: Promise<void>;
let user = '';
let product = '';
const dataDir = mkdtempSync(join(tmpdir(), 'shop-e2e-'));

beforeAll(async () => {
  const [userPort, productPort] = [await freePort(), await freePort()];
  user = `127.0.0.1:${userPort}`;
  product = `127.0.0.1:${productPort}`;
  launcher = spawn(
    'npm',
    [
      'start',
      '--',
      '--user-port',
      String(userPort),
      '--product-port',
      String(productPort),
      '--data-dir',
      dataDir,
    ],
    // Its own process group, so the test can signal it like a terminal's Ctrl-C does.
    { cwd: repo, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  launcher.stdout?.on('data', (chunk: Buffer) => {
    output += chunk;
  });
  launcher.stderr?.on('data', (chunk: Buffer) => {
    output += chunk;
  });
  exited = new Promise((resolve) => launcher.on('exit', () => resolve()));
  await vi.waitFor(
    () => {
      if (launcher.exitCode !== null) throw new Error(`npm start exited early:\n${output}`);
      if (!output.includes('Ctrl-C stops both')) throw new Error(`not serving yet:\n${output}`);
    },
    { timeout: 90_000, interval: 200 },
  );
}, 120_000);

afterAll(() => {
  try {
    if (launcher.pid) process.kill(-launcher.pid, 'SIGKILL');
  } catch {
    // Already gone, as it should be.
  }
  rmSync(dataDir, { recursive: true, force: true });
});

const users = (method: string) => [user, `shop.user.v1.UserService/${method}`];
const products = (method: string) => [product, `shop.product.v1.ProductService/${method}`];

interface User {
  id: string;
  username: string;
  email: string;
}

async function expectError(args: string[], input: unknown, code: string): Promise<string> {
  const result = await grpcurl(args, input);
  expect(result.code).not.toBe(0);
  expect(result.stderr).toContain(`Code: ${code}`);
  return result.stderr;
}

describe('npm start, driven by grpcurl', () => {
  it('prints both endpoints and grpcurl commands to try', () => {
    expect(output).toContain(`localhost:${user.split(':')[1]}`);
    expect(output).toContain(`localhost:${product.split(':')[1]}`);
    expect(output).toMatch(/grpcurl -plaintext .* list/);
  });

  it('prefixes every service log line with its service', () => {
    const serviceLines = output.split('\n').filter((line) => line.includes('"msg"'));
    expect(serviceLines.length).toBeGreaterThan(0);
    for (const line of serviceLines) expect(line).toMatch(/^(user-service|product-service) \| \{/);
  });

  it('lists each server’s own services through reflection', async () => {
    const list = async (address: string) =>
      (await grpcurl([address, 'list'])).stdout.trim().split('\n').sort();
    expect(await list(user)).toEqual([
      'grpc.health.v1.Health',
      'grpc.reflection.v1.ServerReflection',
      'grpc.reflection.v1alpha.ServerReflection',
      'shop.user.v1.UserEventService',
      'shop.user.v1.UserService',
    ]);
    expect(await list(product)).toEqual([
      'grpc.health.v1.Health',
      'grpc.reflection.v1.ServerReflection',
      'grpc.reflection.v1alpha.ServerReflection',
      'shop.product.v1.ProductService',
    ]);
  });

  it('describes services and messages, imports included', async () => {
    const service = await grpcurl([product, 'describe', 'shop.product.v1.ProductService']);
    expect(service.code).toBe(0);
    expect(service.stdout).toContain('rpc CreateProduct ( .shop.product.v1.CreateProductRequest )');
    // Money comes from an imported file: this is what breaks with empty import lists.
    const request = await grpcurl([product, 'describe', 'shop.product.v1.CreateProductRequest']);
    expect(request.stdout).toContain('.google.type.Money price = 3;');
    const money = await grpcurl([product, 'describe', 'google.type.Money']);
    expect(money.stdout).toContain('int64 units = 2;');
    const users_ = await grpcurl([user, 'describe', 'shop.user.v1.User']);
    expect(users_.stdout).toContain('.google.protobuf.Timestamp create_time = 4;');
  });

  it('answers health checks on both ports', async () => {
    for (const address of [user, product]) {
      expect(await grpcurlJson([address, 'grpc.health.v1.Health/Check'])).toEqual({
        status: 'SERVING',
      });
    }
  });

  let ada: User;
  let grace: User;

  it('creates, gets, batch-gets and lists users', async () => {
    ada = (
      await grpcurlJson<{ user: User }>(users('CreateUser'), {
        username: 'ada',
        email: 'Ada@Example.com',
        request_id: 'e2e-ada',
      })
    ).user;
    expect(ada).toMatchObject({ username: 'ada', email: 'ada@example.com' });
    const replay = await grpcurlJson<{ user: User }>(users('CreateUser'), {
      username: 'ada',
      email: 'ada@example.com',
      request_id: 'e2e-ada',
    });
    expect(replay.user).toEqual(ada);
    grace = (
      await grpcurlJson<{ user: User }>(users('CreateUser'), {
        username: 'grace',
        email: 'grace@example.com',
      })
    ).user;

    expect((await grpcurlJson<{ user: User }>(users('GetUser'), { id: ada.id })).user).toEqual(ada);
    const ghost = '01900000-0000-7000-8000-000000000000';
    const batch = await grpcurlJson<{ users: User[]; notFoundIds: string[] }>(
      users('BatchGetUsers'),
      { ids: [grace.id, ghost, ada.id] },
    );
    expect(batch.users.map((u) => u.username)).toEqual(['grace', 'ada']);
    expect(batch.notFoundIds).toEqual([ghost]);

    const first = await grpcurlJson<{ users: User[]; nextPageToken: string }>(users('ListUsers'), {
      page_size: 1,
    });
    expect(first.users.map((u) => u.username)).toEqual(['ada']);
    const second = await grpcurlJson<{ users: User[]; nextPageToken?: string }>(
      users('ListUsers'),
      { page_size: 1, page_token: first.nextPageToken },
    );
    expect(second.users.map((u) => u.username)).toEqual(['grace']);
  });

  it('creates, gets and lists products with their owners resolved', async () => {
    const created = await grpcurlJson<{
      product: { id: string; owner: { username: string }; price: unknown };
    }>(products('CreateProduct'), {
      name: 'Desk lamp',
      owner_id: ada.id,
      price: { currency_code: 'EUR', units: 25, nanos: 500000000 },
      request_id: 'e2e-lamp',
    });
    expect(created.product.owner).toEqual({ id: ada.id, username: 'ada' });
    expect(created.product.price).toEqual({ currencyCode: 'EUR', units: '25', nanos: 500000000 });
    await grpcurlJson(products('CreateProduct'), {
      name: 'Chair',
      owner_id: grace.id,
      price: { currency_code: 'USD', units: 40 },
    });

    const got = await grpcurlJson<{ product: { id: string }; ownerResolution: string }>(
      products('GetProduct'),
      { id: created.product.id },
    );
    expect(got).toMatchObject({
      product: { id: created.product.id },
      ownerResolution: 'OWNER_RESOLUTION_COMPLETE',
    });

    const all = await grpcurlJson<{ products: { name: string; owner: { username: string } }[] }>(
      products('ListProducts'),
      {},
    );
    expect(all.products.map((p) => [p.name, p.owner.username])).toEqual([
      ['Desk lamp', 'ada'],
      ['Chair', 'grace'],
    ]);
    const graces = await grpcurlJson<{ products: { name: string }[] }>(products('ListProducts'), {
      owner_id: grace.id,
    });
    expect(graces.products.map((p) => p.name)).toEqual(['Chair']);
  });

  it('lists owners from its own read model while UserService is stopped', async () => {
    const linus = (
      await grpcurlJson<{ user: User }>(users('CreateUser'), {
        username: 'linus',
        email: 'linus@example.com',
      })
    ).user;
    await grpcurlJson(products('CreateProduct'), {
      name: 'Keyboard',
      owner_id: linus.id,
      price: { currency_code: 'EUR', units: 90 },
    });
    // Every registration's event (one each, positions 1…n) reaches ProductService over the
    // embedded stream: the last one applied is linus's.
    const registered = await grpcurlJson<{ users: User[] }>(users('ListUsers'), { page_size: 100 });
    const position = `"position":"${registered.users.length}"`;
    await vi.waitFor(
      () =>
        expect(output).toMatch(
          new RegExp(`product-service \\| .*${position}.*"user events applied"`),
        ),
      { timeout: 10_000 },
    );
    // UserService's own process (npm start's child): stopped, it answers nothing.
    const pid = pidListeningOn(Number(user.split(':')[1]));
    expect(pid).toBeGreaterThan(0);
    process.kill(pid as number, 'SIGSTOP');
    try {
      expect(
        (await grpcurl([user, 'grpc.health.v1.Health/Check'], undefined, { maxTime: 2 })).code,
      ).not.toBe(0);
      const listed = await grpcurlJson<{
        products: { name: string; owner: { username: string } }[];
        ownerResolution: string;
      }>(products('ListProducts'), {});
      expect(listed.ownerResolution).toBe('OWNER_RESOLUTION_COMPLETE');
      expect(listed.products.map((p) => [p.name, p.owner.username])).toEqual([
        ['Desk lamp', 'ada'],
        ['Chair', 'grace'],
        ['Keyboard', 'linus'],
      ]);
    } finally {
      process.kill(pid as number, 'SIGCONT');
    }
  });

  it('shows every error code, with BadRequest details for invalid fields', async () => {
    const invalid = await expectError(
      users('CreateUser'),
      { username: 'A', email: 'nope' },
      'InvalidArgument',
    );
    expect(invalid).toContain('"@type": "type.googleapis.com/google.rpc.BadRequest"');
    expect(invalid).toMatch(/"field": "username"[\s\S]*"field": "email"/);

    const price = await expectError(
      products('CreateProduct'),
      { name: 'x', owner_id: ada.id, price: { currency_code: 'eur', units: -1 } },
      'InvalidArgument',
    );
    expect(price).toContain('"field": "price.currency_code"');
    expect(price).toContain('"field": "price.units"');

    expect(
      await expectError(
        users('GetUser'),
        { id: '01900000-0000-7000-8000-000000000000' },
        'NotFound',
      ),
    ).toContain('google.rpc.ResourceInfo');
    expect(
      await expectError(
        products('GetProduct'),
        { id: '01900000-0000-7000-8000-000000000000' },
        'NotFound',
      ),
    ).toContain('shop.product.v1.Product');
    expect(
      await expectError(
        users('CreateUser'),
        { username: 'ada', email: 'other@example.com' },
        'AlreadyExists',
      ),
    ).toContain('USERNAME_TAKEN');
    expect(
      await expectError(
        products('CreateProduct'),
        {
          name: 'x',
          owner_id: '01900000-0000-7000-8000-000000000000',
          price: { currency_code: 'EUR' },
        },
        'FailedPrecondition',
      ),
    ).toContain('google.rpc.PreconditionFailure');
    await expectError(users('ListUsers'), { page_token: 'forged' }, 'InvalidArgument');
  });

  it('stops both services cleanly on Ctrl-C', async () => {
    process.kill(-(launcher.pid ?? 0), 'SIGINT');
    await exited; // npm itself dies of the SIGINT, as in a terminal; the launcher reports below
    expect(output).toContain('both services stopped cleanly');
    for (const service of ['user-service', 'product-service']) {
      expect(output).toMatch(new RegExp(`${service} \\| .*"msg":"shutting down: draining calls"`));
      expect(output).toMatch(new RegExp(`${service} \\| .*"msg":"stopped"`));
    }
    expect(output).not.toContain('forcing exit');
    // Nothing is left listening.
    for (const address of [user, product]) {
      expect((await grpcurl([address, 'grpc.health.v1.Health/Check'])).code).not.toBe(0);
    }
  });
});
