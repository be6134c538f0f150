import type * as grpc from '@grpc/grpc-js';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { GrpcInstrumentation } from '@opentelemetry/instrumentation-grpc';
import { tracedByWrapper } from './server-span.js';

/**
 * Health probes and reflection are not traced: kubelet and grpcurl call them
 * all the time and their traces would bury the real ones. Matched by method
 * name, the only form the instrumentation offers.
 */
const untracedMethods = ['Check', 'Watch', 'ServerReflectionInfo'];

type Register = grpc.Server['register'];

/**
 * The gRPC instrumentation for everything but the methods bound by
 * bindService, whose server span the handler wrapper makes itself
 * (server-span.ts): client spans and context injection on every outbound
 * call, and server spans for any other handler (streams, say). grpc-js's
 * `Server.register` gets both versions, the instrumentation's and the
 * plain one, and picks per method. (Unpatching, which we never do, would
 * not restore it.)
 */
class WrapperAwareGrpcInstrumentation extends GrpcInstrumentation {
  override init() {
    return super.init().map((module) => {
      const patch = module.patch;
      module.patch = (exports: typeof grpc, version?: string) => {
        const server = exports.Server.prototype;
        const plain = server.register;
        const patched: unknown = patch?.(exports, version);
        const instrumented = server.register;
        server.register = function register(this: grpc.Server, ...args: Parameters<Register>) {
          const deserialize = args[3] as { [tracedByWrapper]?: boolean } | undefined;
          return (deserialize?.[tracedByWrapper] ? plain : instrumented).apply(this, args);
        } as Register;
        return patched;
      };
      return module;
    });
  }
}

export function createGrpcInstrumentation(): Instrumentation {
  return new WrapperAwareGrpcInstrumentation({ ignoreGrpcMethods: untracedMethods });
}
