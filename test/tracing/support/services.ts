import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { ProductServiceClient } from '../../../services/gen/shop/product/v1/product_service.pb.js';
import { UserServiceClient } from '../../../services/gen/shop/user/v1/user_service.pb.js';
import { type Child, freePort, startChild } from './child-process.js';

/** The preload every service process starts with, as in the Dockerfile and manifests. */
export const preload = './dist/services/shared/telemetry/register.js';

export interface RunningService {
  child: Child;
  address: string;
  metricsUrl: string;
}

/**
 * Both services as they run in pods: the compiled entry points as child
 * processes with the telemetry preload, on free ports, with SQLite in a temp
 * folder. Not a test-runner setup file: the ESM preload is part of what is tested.
 */
export interface Services {
  user: RunningService;
  product: RunningService;
  userClient: UserServiceClient;
  productClient: ProductServiceClient;
  /** SIGTERM both and resolve with their exit codes. */
  stop(): Promise<(number | null)[]>;
}

export interface ServicesEnv {
  /** For both processes. */
  env?: Record<string, string>;
  user?: Record<string, string>;
  product?: Record<string, string>;
}

export async function startServices(options: ServicesEnv = {}): Promise<Services> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tracing-test-'));
  const ports = {
    user: await freePort(),
    userMetrics: await freePort(),
    product: await freePort(),
    productMetrics: await freePort(),
  };
  const common = {
    GRPC_HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    SHUTDOWN_GRACE: '2s',
    ...options.env,
  };
  const start = (name: string, port: number, metricsPort: number, extra = {}) => {
    const child = startChild(
      name,
      process.execPath,
      ['--import', preload, `dist/services/${name.replace('-service', '')}/main.js`],
      { ...common, GRPC_PORT: String(port), METRICS_PORT: String(metricsPort), ...extra },
    );
    return {
      child,
      address: `127.0.0.1:${port}`,
      metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    };
  };
  const user = start('user-service', ports.user, ports.userMetrics, options.user);
  const product = start('product-service', ports.product, ports.productMetrics, {
    USER_SERVICE_ADDRESS: user.address,
    ...options.product,
  });
  const serving = (line: string) => line.includes('"msg":"serving"');
  await Promise.all([user.child.waitForLine(serving), product.child.waitForLine(serving)]);
  const userClient = new UserServiceClient(user.address, credentials.createInsecure());
  const productClient = new ProductServiceClient(product.address, credentials.createInsecure());
  return {
    user,
    product,
    userClient,
    productClient,
    async stop() {
      userClient.close();
      productClient.close();
      const codes = await Promise.all([product.child.stop(), user.child.stop()]);
      rmSync(dataDir, { recursive: true, force: true });
      return codes;
    },
  };
}

export { grpcurl } from '../../support/grpcurl.js';

/** A caller's W3C trace context: the span of whoever calls ProductService. */
export function callerContext(sampled = true) {
  const hex = (bytes: number) =>
    Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) =>
      b.toString(16).padStart(2, '0'),
    ).join('');
  const traceId = hex(16);
  const spanId = hex(8);
  return {
    traceId,
    spanId,
    traceparent: `00-${traceId}-${spanId}-${sampled ? '01' : '00'}`,
  };
}
