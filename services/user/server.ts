import { UserServiceService } from '../gen/shop/user/v1/user_service.pb.js';
import type { ServerMiddleware } from '../shared/grpc/bind-service.js';
import {
  createGrpcServer,
  type GrpcServer,
  type GrpcServerConfig,
} from '../shared/grpc/grpc-server.js';
import type { Logger } from '../shared/process/logger.js';
import { createUserService } from './service.js';
import type { UserStore } from './store.js';

export interface UserServerDeps {
  store: UserStore;
  log: Logger;
  now?: () => Date;
  middleware?: readonly ServerMiddleware[];
}

/** UserService with health and reflection on one grpc-js server; not listening yet. */
export function createUserServer(config: GrpcServerConfig, deps: UserServerDeps): GrpcServer {
  return createGrpcServer(
    config,
    { definition: UserServiceService, implementation: createUserService(deps) },
    deps,
  );
}
