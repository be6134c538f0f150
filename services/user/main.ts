// UserService process entry point. Start it with the tracing preload:
//   node --import ./dist/services/user/preload.js dist/services/user/main.js
import { runMain } from '../shared/process/run-main.js';
import { openSqlClient } from '../shared/sql/open-sql-client.js';
import { loadUserConfig, USER_SERVICE_NAME } from './config.js';
import { createKafkaRelay } from './kafka-relay.js';
import { userMigrations } from './migrations.js';
import { createOutboxSignal } from './outbox-signal.js';
import { createUserServer } from './server.js';
import { createSqlUserStore } from './sql-store.js';

runMain({
  service: USER_SERVICE_NAME,
  loadConfig: loadUserConfig,
  async build(config, log) {
    const db = await openSqlClient(config.storage, { log });
    const store = createSqlUserStore(db);
    const outbox = createOutboxSignal();
    const server = createUserServer(config.server, {
      store,
      log,
      outbox,
      eventPollIntervalMs: config.events.pollIntervalMs,
    });
    const { kafka } = config.events;
    // Loaded only when used: the Kafka client's modules take a few hundred
    // milliseconds to import, which every start would pay (exec to SERVING).
    const producer =
      kafka && (await import('./kafka-producer.js')).createKafkaProducer(kafka, USER_SERVICE_NAME);
    const relay =
      producer &&
      kafka &&
      createKafkaRelay({
        store,
        outbox,
        pollIntervalMs: config.events.pollIntervalMs,
        topic: kafka.topic,
        send: producer.send,
        log,
      });
    return {
      server,
      log,
      async ready() {
        const applied = await db.migrate(userMigrations);
        log.info({ applied, dialect: db.dialect }, 'schema up to date');
        // Only on a migrated schema; ready() runs again only if it failed before this.
        relay?.start();
      },
      // Steps only for what runs. Before the store closes: the relay's batch
      // in flight is acknowledged and marked first.
      afterDrain: [
        ...(relay ? [{ name: 'stop user events relay', run: () => relay.stop() }] : []),
        ...(producer ? [{ name: 'close kafka producer', run: () => producer.close() }] : []),
        { name: 'close store', run: () => db.close() },
      ],
    };
  },
});
