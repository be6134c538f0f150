import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { ProductServiceClient } from '../../services/gen/shop/product/v1/product_service.pb.js';
import { UserServiceClient } from '../../services/gen/shop/user/v1/user_service.pb.js';
import { freePort } from './free-port.js';
import { type ServiceProcess, spawnService } from './spawn-service.js';

export interface RunningService extends ServiceProcess {
  /** `http://127.0.0.1:<port>/metrics`: its Prometheus endpoint. */
  readonly metricsUrl: string;
}

/**
 * Both services as they run in pods: the compiled entry points with the
 * telemetry preload, on free ports (gRPC and metrics), ProductService pointed
 * at UserService, SQLite in a temp folder (unless `env` says otherwise).
 */
export interface Services {
  user: RunningService;
  product: RunningService;
  userClient: UserServiceClient;
  productClient: ProductServiceClient;
  /** SIGTERM both at once and resolve with their exit codes (ProductService's first). */
  stop(): Promise<(number | null)[]>;
}

export interface ServicesOptions {
  /** For both processes. */
  env?: Record<string, string>;
  user?: Record<string, string>;
  product?: Record<string, string>;
  /** Run each process under this memory limit, as in its pod (SpawnServiceOptions). */
  memoryLimitBytes?: number;
}

export async function spawnServices(options: ServicesOptions = {}): Promise<Services> {
  const dataDir = mkdtempSync(join(tmpdir(), 'shop-services-'));
  const common = { DATA_DIR: dataDir, SHUTDOWN_GRACE: '2s', ...options.env };
  const start = async (name: 'user' | 'product', extra: Record<string, string> = {}) => {
    const metricsPort = await freePort();
    const service = await spawnService(name, {
      env: { ...common, METRICS_PORT: String(metricsPort), ...extra },
      memoryLimitBytes: options.memoryLimitBytes,
      wait: false,
    });
    return Object.assign(service, { metricsUrl: `http://127.0.0.1:${metricsPort}/metrics` });
  };
  // Started together, as pods are: ProductService does not need UserService to start.
  const user = await start('user', options.user);
  const product = await start('product', {
    USER_SERVICE_ADDRESS: user.address,
    ...options.product,
  });
  try {
    await Promise.all([user.waitServing(), product.waitServing()]);
  } catch (error) {
    await Promise.all([user.stop('SIGKILL'), product.stop('SIGKILL')]);
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
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
      const codes = await Promise.all([product.stop(), user.stop()]);
      rmSync(dataDir, { recursive: true, force: true });
      return codes;
    },
  };
}
