import { Server, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { ProductServiceService } from '../../services/gen/shop/product/v1/product_service.pb.js';
import { UserServiceService } from '../../services/gen/shop/user/v1/user_service.pb.js';
import type { BaselineFixtures } from './baseline-fixtures.js';

/**
 * The bench's yardstick: a grpc-js server (the services' version) with the
 * services' own ts-proto definitions, so requests are decoded and responses
 * encoded by the same code, answering the benchmarked RPCs with fixed
 * responses and doing nothing else: no validation, storage, logging, metrics
 * or tracing. What the services lose against it is what they add. Every
 * other RPC answers UNIMPLEMENTED (grpc-js's default for a missing handler).
 */
export function createBaselineServer(fixtures: BaselineFixtures): Server {
  const answer =
    (response: unknown) => (_call: unknown, callback: (error: null, response: unknown) => void) =>
      callback(null, response);
  const server = new Server();
  server.addService(UserServiceService, {
    getUser: answer(fixtures.getUser),
    createUser: answer(fixtures.createUser),
  } as UntypedServiceImplementation);
  server.addService(ProductServiceService, {
    listProducts: answer(fixtures.listProducts),
  } as UntypedServiceImplementation);
  return server;
}
