// UserService's telemetry preload: OpenTelemetry must patch grpc-js before
// anything loads it, which under ESM takes a preload (see shared/telemetry/register.ts):
//   node --import ./dist/services/user/preload.js dist/services/user/main.js
// It imports nothing that loads @grpc/grpc-js: config.ts only reads the environment.
import { registerTelemetry } from '../shared/telemetry/register.js';
import { USER_METRICS_PORT, USER_SERVICE_NAME } from './config.js';

await registerTelemetry({ serviceName: USER_SERVICE_NAME, metricsPort: USER_METRICS_PORT });
