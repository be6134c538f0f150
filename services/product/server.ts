import { ProductServiceService } from '../gen/shop/product/v1/product_service.pb.js';
import type { ServerMiddleware } from '../shared/grpc/bind-service.js';
import {
  createGrpcServer,
  type GrpcServer,
  type GrpcServerConfig,
} from '../shared/grpc/grpc-server.js';
import type { Logger } from '../shared/process/logger.js';
import type { OwnerDirectory } from './owner-directory.js';
import { createProductService } from './service.js';
import type { ProductStore } from './store.js';

export interface ProductServerDeps {
  store: ProductStore;
  owners: OwnerDirectory;
  log: Logger;
  now?: () => Date;
  middleware?: readonly ServerMiddleware[];
}

/** ProductService with health and reflection on one grpc-js server; not listening yet. */
export function createProductServer(config: GrpcServerConfig, deps: ProductServerDeps): GrpcServer {
  return createGrpcServer(
    config,
    { definition: ProductServiceService, implementation: createProductService(deps) },
    deps,
  );
}
