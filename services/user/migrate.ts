// Applies UserService's migrations and exits, for teams that migrate before
// deploying; the service itself also migrates at start, so this is optional:
//   DATABASE_URL=postgres://… node dist/services/user/migrate.js
import { migrateMain } from '../shared/sql/migrate-main.js';
import { loadUserConfig } from './config.js';
import { userMigrations } from './migrations.js';

migrateMain({
  service: 'user-service',
  loadConfig: loadUserConfig,
  migrations: userMigrations,
});
