// A real PostgreSQL server for tests and the bench: a private cluster made
// with initdb in a temp dir, on a free port, with its unix socket in that dir;
// or, when TEST_DATABASE_URL is set, your own server (a role with CREATEDB and
// CREATEROLE), in which each test makes and later drops its own databases.
// Tests that stop and restart the server always need a private cluster.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { findPostgresBin } from './find-postgres-bin.js';
import { freePort } from './free-port.js';

export interface ServiceDatabase {
  database: string;
  /** The login role that owns the database; no other role may connect to it. */
  role: string;
  password: string;
  /** postgres:// URL as `role`, over TCP. */
  url: string;
}

export interface PostgresServer {
  /** Superuser (or CREATEDB + CREATEROLE) URL of the `postgres` database. */
  readonly adminUrl: string;
  /** True for a cluster these tests made, which stop() and start() need. */
  readonly private: boolean;
  /** A private cluster's postmaster, while it runs. */
  readonly pid?: number;
  /** `adminUrl` with another database, role and password. */
  url(database: string, role?: string, password?: string): string;
  /** Runs one statement as the admin role, in `database` (default `postgres`). */
  admin<Row extends object>(sql: string, params?: unknown[], database?: string): Promise<Row[]>;
  /**
   * A service's own database, owned by a login role of its own, with CONNECT
   * revoked from PUBLIC: what docs/postgres.md tells operators to create.
   */
  createDatabase(prefix: string): Promise<ServiceDatabase>;
  /** 'fast' disconnects clients and shuts down cleanly; 'immediate' is a crash. */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Starts a stopped private cluster again, on the same port, with the same data. */
  start(): Promise<void>;
  /** Stops the server and deletes its files, or drops what createDatabase made. */
  close(): Promise<void>;
}

export interface PostgresOptions {
  /** A cluster of our own even when TEST_DATABASE_URL is set. */
  private?: boolean;
  /**
   * fsync on, as a production server runs: for measuring commits (the
   * bench). Implies a private cluster.
   */
  durable?: boolean;
}

/** Starts a private cluster, or uses TEST_DATABASE_URL unless `private` or `durable` is asked for. */
export async function startPostgres(options: PostgresOptions = {}): Promise<PostgresServer> {
  const external = process.env.TEST_DATABASE_URL;
  if (external && !options.private && !options.durable) return useExternal(external);
  return startPrivate(options.durable === true);
}

const random = () => Math.random().toString(36).slice(2, 10);

function withDatabase(base: string, database: string, role?: string, password?: string): string {
  const url = new URL(base);
  url.pathname = `/${database}`;
  if (role !== undefined) url.username = role;
  if (password !== undefined) url.password = password;
  return url.toString();
}

/** Admin helpers shared by both kinds of server. */
function adminApi(adminUrl: string, created: ServiceDatabase[]) {
  const admin = async <Row extends object>(
    sql: string,
    params: unknown[] = [],
    database?: string,
  ) => {
    const client = new pg.Client({
      connectionString: database ? withDatabase(adminUrl, database) : adminUrl,
    });
    client.on('error', () => {});
    await client.connect();
    try {
      return (await client.query<Row>(sql, params)).rows;
    } finally {
      await client.end();
    }
  };
  return {
    admin,
    url: (database: string, role?: string, password?: string) =>
      withDatabase(adminUrl, database, role, password),
    async createDatabase(prefix: string): Promise<ServiceDatabase> {
      const name = `${prefix}_${random()}`;
      const password = `pw_${random()}${random()}`;
      // Identifiers and password are [a-z0-9_] only: safe to inline in DDL, which takes no parameters.
      await admin(`CREATE ROLE ${name} LOGIN PASSWORD '${password}'`);
      await admin(`CREATE DATABASE ${name} OWNER ${name}`);
      await admin(`REVOKE ALL ON DATABASE ${name} FROM PUBLIC`);
      const db = {
        database: name,
        role: name,
        password,
        url: withDatabase(adminUrl, name, name, password),
      };
      created.push(db);
      return db;
    },
  };
}

function useExternal(adminUrl: string): PostgresServer {
  const created: ServiceDatabase[] = [];
  const api = adminApi(adminUrl, created);
  const needsPrivate = () => {
    throw new Error(
      'stopping the server needs a private cluster (startPostgres({ private: true }))',
    );
  };
  return {
    adminUrl,
    private: false,
    ...api,
    stop: async () => needsPrivate(),
    start: async () => needsPrivate(),
    async close() {
      for (const db of created.splice(0)) {
        await api.admin(`DROP DATABASE IF EXISTS ${db.database} WITH (FORCE)`);
        await api.admin(`DROP ROLE IF EXISTS ${db.role}`);
      }
    },
  };
}

/** initdb and postgres refuse to run as root: as root, run them as this user. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of ['postgres', 'nobody']) {
    try {
      const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
      if (uid > 0) return { uid, gid };
    } catch {
      // No such user: try the next.
    }
  }
  throw new Error(
    'running as root and found neither a postgres nor a nobody user to run PostgreSQL as',
  );
}

function run(
  command: string,
  args: string[],
  options: { cwd: string; user?: { uid: number; gid: number } },
) {
  return new Promise<void>((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...options.user,
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} exited with ${code}:\n${output}`)),
    );
  });
}

/**
 * Test data is disposable, so no fsync: a 2-core box would crawl. Commits
 * still reach the OS before they are acknowledged (synchronous_commit stays
 * on), so a crash of the server process, which the restart test causes,
 * loses no acknowledged write. A durable cluster keeps PostgreSQL's defaults.
 */
const serverSettings = (durable: boolean) => ({
  listen_addresses: '127.0.0.1',
  max_connections: '200',
  ...(durable ? {} : { fsync: 'off', full_page_writes: 'off' }),
});

async function startPrivate(durable: boolean): Promise<PostgresServer> {
  const bin = findPostgresBin();
  const user = serverUser();
  const dir = await mkdtemp(join(tmpdir(), 'pg-test-'));
  const data = join(dir, 'data');
  const password = `pw_${random()}${random()}`;
  const pwfile = join(dir, 'pwfile');
  await writeFile(pwfile, `${password}\n`);
  if (user) {
    await chown(dir, user.uid, user.gid);
    await chown(pwfile, user.uid, user.gid);
  }
  // ICU en-US as the default collation, as production servers have a locale
  // rather than C: ordering that silently depends on the locale shows up here.
  await run(
    join(bin, 'initdb'),
    [
      `--pgdata=${data}`,
      '--username=postgres',
      `--pwfile=${pwfile}`,
      '--auth=scram-sha-256',
      '--encoding=UTF8',
      '--locale=C',
      '--locale-provider=icu',
      '--icu-locale=en-US',
      '--no-sync',
      '--no-instructions',
    ],
    { cwd: dir, user },
  );
  await rm(pwfile);

  let port = 0;
  let child: ChildProcess | undefined;
  let log = '';
  const killOnExit = () => child?.kill('SIGQUIT');
  process.on('exit', killOnExit);

  const adminUrl = () => `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;

  async function launch(): Promise<void> {
    log = '';
    const server = spawn(
      join(bin, 'postgres'),
      [
        ...['-D', data, '-p', String(port), '-k', dir],
        ...Object.entries(serverSettings(durable)).flatMap(([name, value]) => [
          '-c',
          `${name}=${value}`,
        ]),
      ],
      { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], ...user },
    );
    child = server;
    server.stderr?.on('data', (chunk) => {
      log = (log + chunk).slice(-8000);
    });
    const exited = new Promise<number | null>((resolve) => server.once('exit', resolve));
    const deadline = Date.now() + 30_000;
    for (;;) {
      const code = await Promise.race([exited, sleep(100).then(() => 'running' as const)]);
      if (code !== 'running') throw new Error(`postgres exited with ${code}:\n${log}`);
      const probe = new pg.Client({ connectionString: adminUrl(), connectionTimeoutMillis: 2000 });
      probe.on('error', () => {});
      try {
        await probe.connect();
        await probe.end();
        return;
      } catch {
        if (Date.now() > deadline) throw new Error(`postgres did not accept connections:\n${log}`);
      }
    }
  }

  async function stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    const server = child;
    if (!server || server.exitCode !== null || server.signalCode !== null) return;
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill(mode === 'fast' ? 'SIGINT' : 'SIGQUIT');
    const timer = setTimeout(() => server.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  }

  // A port can be taken between picking and binding it: try a few.
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      await launch();
      break;
    } catch (error) {
      await stop('immediate');
      if (attempt === 3) throw error;
    }
  }

  const api = adminApi(adminUrl(), []);
  return {
    adminUrl: adminUrl(),
    private: true,
    get pid() {
      return child?.pid;
    },
    ...api,
    stop,
    start: launch,
    async close() {
      await stop('fast');
      process.off('exit', killOnExit);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
