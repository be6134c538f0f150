// ProductService process entry point. Start it with the tracing preload:
//   node --import ./dist/services/product/preload.js dist/services/product/main.js
import { credentials } from '@grpc/grpc-js';
import { UserEventServiceClient } from '../gen/shop/user/v1/events.pb.js';
import { UserServiceClient } from '../gen/shop/user/v1/user_service.pb.js';
import { dependencyChannelOptions } from '../shared/grpc/client-channel-options.js';
import { runMain } from '../shared/process/run-main.js';
import { openSqlClient } from '../shared/sql/open-sql-client.js';
import { loadProductConfig, PRODUCT_SERVICE_NAME } from './config.js';
import { createGrpcUserEventTransport } from './grpc-user-event-transport.js';
import { productMigrations } from './migrations.js';
import { createOwnerDirectory } from './owner-directory.js';
import { createOwnerReplication } from './owner-replication.js';
import { createReplicatedOwnerDirectory } from './replicated-owner-directory.js';
import { createProductServer } from './server.js';
import { createSqlOwnerReadModel } from './sql-owner-read-model.js';
import { createSqlProductStore } from './sql-store.js';

runMain({
  service: PRODUCT_SERVICE_NAME,
  loadConfig: loadProductConfig,
  async build(config, log) {
    const db = await openSqlClient(config.storage, { log });
    // Plaintext: in the cluster the sidecars add mTLS between pods.
    const users = new UserServiceClient(
      config.userService.address,
      credentials.createInsecure(),
      dependencyChannelOptions,
    );
    const userService = createOwnerDirectory(users, { timeoutMs: config.userService.timeoutMs });
    const readModel = createSqlOwnerReadModel(db);
    const { transport: chosen, kafka } = config.userEvents;
    const events =
      chosen === 'grpc'
        ? new UserEventServiceClient(
            config.userService.address,
            credentials.createInsecure(),
            dependencyChannelOptions,
          )
        : undefined;
    const consumer =
      chosen === 'kafka' && kafka
        ? // Loaded only when used, as in UserService: the Kafka client is slow to import.
          (await import('./kafka-user-event-transport.js')).createKafkaUserEventTransport({
            kafka,
            clientId: PRODUCT_SERVICE_NAME,
            log,
          })
        : undefined;
    const transport = events ? createGrpcUserEventTransport({ client: events, log }) : consumer;
    const replication = transport && createOwnerReplication({ transport, readModel, log });
    const server = createProductServer(config.server, {
      store: createSqlProductStore(db),
      owners: replication ? createReplicatedOwnerDirectory(readModel, userService) : userService,
      log,
    });
    return {
      server,
      log,
      async ready() {
        const applied = await db.migrate(productMigrations);
        log.info({ applied, dialect: db.dialect }, 'schema up to date');
        // Only on a migrated schema; ready() runs again only if it failed before this.
        replication?.start();
      },
      // Steps only for what runs. Before the store closes: the batch being
      // applied commits first.
      afterDrain: [
        ...(replication ? [{ name: 'stop owner replication', run: () => replication.stop() }] : []),
        { name: 'close user service client', run: async () => users.close() },
        ...(events ? [{ name: 'close user events client', run: async () => events.close() }] : []),
        ...(consumer ? [{ name: 'close kafka consumer', run: () => consumer.close() }] : []),
        { name: 'close store', run: () => db.close() },
      ],
    };
  },
});
