// End to end: the README's TypeScript client example (examples/create-user.ts),
// run as a user runs it, `npm run example`, as a process against the compiled
// services, with its whole output asserted for success and for each error path.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Services, spawnServices } from '../../scripts/lib/spawn-services.js';
import { unaryCall } from '../../services/shared/grpc/unary-call.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));

let services: Services;

beforeAll(async () => {
  services = await spawnServices();
});

afterAll(async () => {
  await services?.stop();
});

interface Run {
  code: number;
  lines: string[];
  stderr: string;
}

/** `npm run example -- <args>` with USER_SERVICE_ADDRESS pointing at `address`. */
function example(args: readonly string[], address = services.user.address): Promise<Run> {
  return new Promise((done) => {
    execFile(
      'npm',
      ['run', '--silent', 'example', '--', ...args],
      { cwd: repo, env: { ...process.env, USER_SERVICE_ADDRESS: address }, timeout: 20_000 },
      (error, stdout, stderr) => {
        done({
          code: error ? Number(error.code ?? 1) : 0,
          lines: stdout.trimEnd().split('\n'),
          stderr,
        });
      },
    );
  });
}

const created = /^created user ([0-9a-f-]{36}) \(username (\S+), email (\S+)\)$/;

describe('npm run example', () => {
  let first = { id: '', username: '' };

  it('creates a user with a fresh name after the README recipe and the launcher’s Try: line', async () => {
    // What a newcomer runs first: the README's grpcurl recipe (ada) and npm start's "Try:" (grace).
    for (const [username, requestId] of [
      ['ada', '6f1c0d2e-1'],
      ['grace', ''],
    ] as const) {
      await unaryCall(
        services.userClient,
        'createUser',
        { username, email: `${username}@example.com`, requestId },
        { deadline: Date.now() + 5000 },
      );
    }

    const run = await example([]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.lines).toHaveLength(1);
    const [, id = '', username = '', email] = run.lines[0]?.match(created) ?? [];
    expect(username).toMatch(/^ada-[0-9a-f]{8}$/);
    expect(email).toBe(`${username}@example.com`);
    first = { id, username };

    const again = await example([]);
    expect(again.code, again.stderr).toBe(0);
    const [, secondId, secondName] = again.lines[0]?.match(created) ?? [];
    expect(secondId).not.toBe(id);
    expect(secondName).not.toBe(username);
  });

  it('creates the user named on the command line, as the README shows, then reports it taken', async () => {
    const run = await example(['--username', 'alan']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.lines[0]).toMatch(created);
    expect(run.lines[0]).toContain('(username alan, email alan@example.com)');

    const again = await example(['--username', 'alan']);
    expect(again.code).toBe(1);
    expect(again.lines).toEqual([
      'CreateUser failed: ALREADY_EXISTS (6)',
      '  message: a user with this email already exists',
      '  reason: EMAIL_TAKEN (domain shop.user.v1.UserService, field=email)',
    ]);
  });

  it('stores the e-mail address it is given, lower-case', async () => {
    const run = await example(['--username', 'edsger', '--email', 'Edsger@Example.com']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.lines[0]).toContain('(username edsger, email edsger@example.com)');
  });

  it('prints code, message and ErrorInfo for a duplicate username', async () => {
    const run = await example(['--username', first.username, '--email', 'other@example.com']);
    expect(run.code).toBe(1);
    expect(run.lines).toEqual([
      'CreateUser failed: ALREADY_EXISTS (6)',
      '  message: a user with this username already exists',
      '  reason: USERNAME_TAKEN (domain shop.user.v1.UserService, field=username)',
    ]);
  });

  it('prints every field violation for an invalid e-mail address', async () => {
    const run = await example(['--email', 'nope']);
    expect(run.code).toBe(1);
    expect(run.lines).toEqual([
      'CreateUser failed: INVALID_ARGUMENT (3)',
      '  message: invalid request: email',
      '  reason: INVALID_FIELDS (domain shop.user.v1.UserService)',
      '  field violation: email: must be a valid e-mail address of at most 254 characters',
    ]);
  });

  it('says so when no server answers, and fails', async () => {
    const run = await example([], '127.0.0.1:1'); // nothing listens on port 1
    expect(run.code).toBe(1);
    expect(run.lines[0]).toBe('CreateUser failed: UNAVAILABLE (14)');
    expect(run.lines[2]).toBe(
      '  details: none (the server sent no google.rpc.Status; grpc-js made this error)',
    );
  });

  it('rejects an unknown option with its usage', async () => {
    const run = await example(['--user', 'x']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('usage: npm run example -- [--username NAME] [--email ADDRESS]');
  });
});
