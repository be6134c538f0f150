// ProductService's telemetry preload: OpenTelemetry must patch grpc-js before
// anything loads it, which under ESM takes a preload (see shared/telemetry/register.ts):
//   node --import ./dist/services/product/preload.js dist/services/product/main.js
// It imports nothing that loads @grpc/grpc-js: config.ts only reads the environment.
import { registerTelemetry } from '../shared/telemetry/register.js';
import { PRODUCT_METRICS_PORT, PRODUCT_SERVICE_NAME } from './config.js';

await registerTelemetry({ serviceName: PRODUCT_SERVICE_NAME, metricsPort: PRODUCT_METRICS_PORT });
