import { credentials } from '@grpc/grpc-js';
import { ProductServiceClient } from '../../services/gen/shop/product/v1/product_service.pb.js';
import { UserEventServiceClient } from '../../services/gen/shop/user/v1/events.pb.js';
import { UserServiceClient } from '../../services/gen/shop/user/v1/user_service.pb.js';
import { createGrpcUserEventTransport } from '../../services/product/grpc-user-event-transport.js';
import { productMigrations } from '../../services/product/migrations.js';
import { createOwnerDirectory } from '../../services/product/owner-directory.js';
import {
  createOwnerReplication,
  type OwnerReplication,
} from '../../services/product/owner-replication.js';
import { createReplicatedOwnerDirectory } from '../../services/product/replicated-owner-directory.js';
import { createProductServer } from '../../services/product/server.js';
import { createSqlOwnerReadModel } from '../../services/product/sql-owner-read-model.js';
import { createSqlProductStore } from '../../services/product/sql-store.js';
import type { ServerMiddleware } from '../../services/shared/grpc/bind-service.js';
import { dependencyChannelOptions } from '../../services/shared/grpc/client-channel-options.js';
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
  /** Port to listen on (default: an ephemeral one), e.g. to restart a service where its callers expect it. */
  port?: number;
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
  beforeClose: () => Promise<void> | undefined = async () => {},
): Promise<Running<Client>> {
  const db = createSqliteClient(options.sqlitePath ?? ':memory:');
  await migrate(db);
  const server = build(db, {
    host: '127.0.0.1',
    port: options.port ?? 0,
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
      await beforeClose();
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

export interface ProductStartOptions extends StartOptions {
  userTimeoutMs?: number;
  /**
   * Keep the owner read model from UserService's event stream, as the
   * service does by default (USER_EVENTS_TRANSPORT=grpc). Default: off, every
   * read asks UserService (USER_EVENTS_TRANSPORT=none).
   */
  replicateOwners?: boolean;
  /** Where the event stream is followed from (default: userAddress). */
  eventsAddress?: string;
}

export function startProductService(
  userAddress: string,
  options: ProductStartOptions = {},
): Promise<Running<ProductServiceClient>> {
  const users = new UserServiceClient(userAddress, credentials.createInsecure());
  const events = new UserEventServiceClient(
    options.eventsAddress ?? userAddress,
    credentials.createInsecure(),
    dependencyChannelOptions,
  );
  const log = options.log ?? silentLogger;
  let replication: OwnerReplication | undefined;
  return start(
    options,
    (db) => db.migrate(productMigrations),
    (db, config) => {
      const userService = createOwnerDirectory(users, {
        timeoutMs: options.userTimeoutMs ?? 2000,
      });
      const readModel = createSqlOwnerReadModel(db);
      if (options.replicateOwners) {
        replication = createOwnerReplication({
          transport: createGrpcUserEventTransport({ client: events, log }),
          readModel,
          log,
        });
        replication.start();
      }
      return createProductServer(config, {
        store: createSqlProductStore(db),
        owners: replication ? createReplicatedOwnerDirectory(readModel, userService) : userService,
        log,
        ...(options.middleware ? { middleware: options.middleware } : {}),
      });
    },
    (address) => new ProductServiceClient(address, credentials.createInsecure()),
    () => {
      users.close();
      events.close();
    },
    () => replication?.stop(),
  );
}
