// UserService process entry point. Start it with the tracing preload:
//   node --import ./dist/services/user/preload.js dist/services/user/main.js
import { runMain } from '../shared/process/run-main.js';
import { openSqlClient } from '../shared/sql/open-sql-client.js';
import { loadUserConfig, USER_SERVICE_NAME } from './config.js';
import { userMigrations } from './migrations.js';
import { createUserServer } from './server.js';
import { createSqlUserStore } from './sql-store.js';

runMain({
  service: USER_SERVICE_NAME,
  loadConfig: loadUserConfig,
  async build(config, log) {
    const db = await openSqlClient(config.storage, { log });
    const server = createUserServer(config.server, {
      store: createSqlUserStore(db),
      log,
      eventPollIntervalMs: config.events.pollIntervalMs,
    });
    return {
      server,
      log,
      async ready() {
        const applied = await db.migrate(userMigrations);
        log.info({ applied, dialect: db.dialect }, 'schema up to date');
      },
      afterDrain: [{ name: 'close store', run: () => db.close() }],
    };
  },
});
