import { type ServerDuplexStream, status } from '@grpc/grpc-js';
import {
  type ServerReflectionRequest,
  type ServerReflectionResponse,
  type ServerReflectionServer,
  ServerReflectionService,
} from '../../gen/grpc/reflection/v1/reflection.pb.js';
import { ServerReflectionService as ServerReflectionServiceV1Alpha } from '../../gen/grpc/reflection/v1alpha/reflection.pb.js';
import type { Answer } from './reflection-answers.js';

export const reflectionServiceNames = [
  'grpc.reflection.v1.ServerReflection',
  'grpc.reflection.v1alpha.ServerReflection',
];

export interface Reflection {
  readonly services: readonly {
    definition: typeof ServerReflectionService | typeof ServerReflectionServiceV1Alpha;
    implementation: ServerReflectionServer;
  }[];
  /**
   * Loads the descriptors now (the server calls it once it serves), so the
   * first grpcurl does not wait for them; rejects when a listed service is
   * not in the descriptor set.
   */
  load(): Promise<void>;
}

/**
 * gRPC server reflection (v1 and v1alpha, which share their wire format),
 * answering from the real FileDescriptorProtos that buf built, imports
 * included, so grpcurl can list, describe and call without proto files.
 *
 * It lists only `serviceNames`, and resolves only symbols from the files those
 * services need (plus error details): a server does not describe its
 * neighbours' APIs (reflection-answers.ts).
 *
 * The descriptors are parsed on first use, not at start-up (about 40 ms of
 * a 0.5 s start, with the module that holds them): a server is SERVING
 * before they are loaded, and a request that comes meanwhile waits for them.
 */
export function createReflection(serviceNames: readonly string[]): Reflection {
  const listed = [...serviceNames, 'grpc.health.v1.Health', ...reflectionServiceNames];
  let answers: Promise<Answer> | undefined;
  const load = () => {
    answers ??= import('./reflection-answers.js').then((m) => m.createAnswers(listed));
    return answers;
  };

  const implementation: ServerReflectionServer = {
    serverReflectionInfo(
      call: ServerDuplexStream<ServerReflectionRequest, ServerReflectionResponse>,
    ) {
      // Answers go out in the order the requests came, as the protocol expects.
      let queue = Promise.resolve();
      call.on('data', (request: ServerReflectionRequest) => {
        queue = queue.then(async () => {
          const answer = await load().then(
            (a) => a(request),
            (): Partial<ServerReflectionResponse> => ({
              errorResponse: {
                errorCode: status.UNAVAILABLE,
                errorMessage: 'reflection descriptors could not be loaded',
              },
            }),
          );
          call.write({ validHost: request.host, originalRequest: request, ...answer });
        });
      });
      call.on('end', () => void queue.then(() => call.end()));
      call.on('error', () => call.end());
    },
  };
  return {
    services: [
      { definition: ServerReflectionService, implementation },
      { definition: ServerReflectionServiceV1Alpha, implementation },
    ],
    load: async () => {
      await load();
    },
  };
}
