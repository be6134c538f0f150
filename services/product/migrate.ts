// Applies ProductService's migrations and exits, for teams that migrate before
// deploying; the service itself also migrates at start, so this is optional:
//   DATABASE_URL=postgres://… node dist/services/product/migrate.js
import { migrateMain } from '../shared/sql/migrate-main.js';
import { loadProductConfig } from './config.js';
import { productMigrations } from './migrations.js';

migrateMain({
  service: 'product-service',
  loadConfig: loadProductConfig,
  migrations: productMigrations,
});
