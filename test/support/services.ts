import { credentials } from '@grpc/grpc-js';
import { ProductServiceClient } from '../../services/gen/shop/product/v1/product_service.pb.js';
import { UserServiceClient } from '../../services/gen/shop/user/v1/user_service.pb.js';
import { productMigrations } from '../../services/product/migrations.js';
import { createOwnerDirectory } from '../../services/product/owner-directory.js';
import { createProductServer } from '../../services/product/server.js';
import { createSqlProductStore } from '../../services/product/sql-store.js';
import type { ServerMiddleware } from '../../services/shared/grpc/bind-service.js';
import type { GrpcServer } from '../../services/shared/grpc/grpc-server.js';
import { ServingStatus } from '../../services/shared/grpc/health.js';
import { type Logger, silentLogger } from '../../services/shared/process/logger.js';
import type { SqlClient } from '../../services/shared/sql/sql-client.js';
import { createSqliteClient } from '../../services/shared/sql/sqlite-client.js';
import { userMigrations } from '../../services/user/migrations.js';
import { createUserServer } from '../../services/user/server.js';
import { createSqlUserStore } from '../../services/user/sql-store.js';

/** A real server on 127.0.0.1 with an ephemeral port, its store, and a typed client. */
export interface Running<Client> {
  server: GrpcServer;
  db: SqlClient;
  port: number;
  address: string;
  client: Client;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** SQLite file; default: in memory. */
  sqlitePath?: string;
  middleware?: readonly ServerMiddleware[];
  log?: Logger;
  shutdownGraceMs?: number;
  /** Leave health NOT_SERVING (default: SERVING once migrated). */
  notServing?: boolean;
}

async function start<Client extends { close(): void }>(
  options: StartOptions,
  migrate: (db: SqlClient) => Promise<unknown>,
  build: (
    db: SqlClient,
    config: { host: string; port: number; shutdownGraceMs: number },
  ) => GrpcServer,
  makeClient: (address: string) => Client,
  onStop: () => void = () => {},
): Promise<Running<Client>> {
  const db = createSqliteClient(options.sqlitePath ?? ':memory:');
  await migrate(db);
  const server = build(db, {
    host: '127.0.0.1',
    port: 0,
    shutdownGraceMs: options.shutdownGraceMs ?? 2000,
  });
  const port = await server.listen();
  if (!options.notServing) server.health.set(ServingStatus.SERVING);
  const address = `127.0.0.1:${port}`;
  const client = makeClient(address);
  return {
    server,
    db,
    port,
    address,
    client,
    async stop() {
      client.close();
      onStop();
      await server.shutdown();
      await db.close();
    },
  };
}

export function startUserService(options: StartOptions = {}): Promise<Running<UserServiceClient>> {
  return start(
    options,
    (db) => db.migrate(userMigrations),
    (db, config) =>
      createUserServer(config, {
        store: createSqlUserStore(db),
        log: options.log ?? silentLogger,
        ...(options.middleware ? { middleware: options.middleware } : {}),
      }),
    (address) => new UserServiceClient(address, credentials.createInsecure()),
  );
}

export function startProductService(
  userAddress: string,
  options: StartOptions & { userTimeoutMs?: number } = {},
): Promise<Running<ProductServiceClient>> {
  const users = new UserServiceClient(userAddress, credentials.createInsecure());
  return start(
    options,
    (db) => db.migrate(productMigrations),
    (db, config) =>
      createProductServer(config, {
        store: createSqlProductStore(db),
        owners: createOwnerDirectory(users, { timeoutMs: options.userTimeoutMs ?? 2000 }),
        log: options.log ?? silentLogger,
        ...(options.middleware ? { middleware: options.middleware } : {}),
      }),
    (address) => new ProductServiceClient(address, credentials.createInsecure()),
    () => users.close(),
  );
}
