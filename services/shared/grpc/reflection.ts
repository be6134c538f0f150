import type { DescFile, FileRegistry } from '@bufbuild/protobuf';
import { toBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { type ServerDuplexStream, status } from '@grpc/grpc-js';
import {
  type ServerReflectionRequest,
  type ServerReflectionResponse,
  type ServerReflectionServer,
  ServerReflectionService,
} from '../../gen/grpc/reflection/v1/reflection.pb.js';
import { ServerReflectionService as ServerReflectionServiceV1Alpha } from '../../gen/grpc/reflection/v1alpha/reflection.pb.js';
import { withDependencies } from './descriptors.js';

/** Message types that appear inside status details, which grpcurl resolves to print errors. */
const errorDetailFiles = ['google/rpc/error_details.proto', 'google/rpc/status.proto'];

export const reflectionServiceNames = [
  'grpc.reflection.v1.ServerReflection',
  'grpc.reflection.v1alpha.ServerReflection',
];

export interface Reflection {
  readonly services: readonly {
    definition: typeof ServerReflectionService | typeof ServerReflectionServiceV1Alpha;
    implementation: ServerReflectionServer;
  }[];
}

/**
 * gRPC server reflection (v1 and v1alpha, which share their wire format),
 * answering from the real FileDescriptorProtos that buf built, imports
 * included, so grpcurl can list, describe and call without proto files.
 *
 * It lists only `serviceNames`, and resolves only symbols from the files those
 * services need (plus error details): a server does not describe its
 * neighbours' APIs.
 */
export function createReflection(
  registry: FileRegistry,
  serviceNames: readonly string[],
): Reflection {
  const listed = [...serviceNames, 'grpc.health.v1.Health', ...reflectionServiceNames];
  const roots: DescFile[] = [];
  for (const name of listed) {
    const service = registry.getService(name);
    if (!service) throw new Error(`reflection: service ${name} is not in the descriptor set`);
    roots.push(service.file);
  }
  for (const name of errorDetailFiles) {
    const file = registry.getFile(name);
    if (file) roots.push(file);
  }
  const visible = new Set(withDependencies(roots));
  const encoded = new Map<DescFile, Buffer>();
  const encode = (file: DescFile) => {
    let bytes = encoded.get(file);
    if (!bytes) {
      bytes = Buffer.from(toBinary(FileDescriptorProtoSchema, file.proto));
      encoded.set(file, bytes);
    }
    return bytes;
  };

  const files = (file: DescFile | undefined): Partial<ServerReflectionResponse> =>
    file && visible.has(file)
      ? { fileDescriptorResponse: { fileDescriptorProto: withDependencies([file]).map(encode) } }
      : notFound('file not found');

  /** A symbol is a type or service name, or a member of one (method, field, enum value). */
  function fileOfSymbol(symbol: string): DescFile | undefined {
    for (let name = symbol; name !== ''; name = name.slice(0, Math.max(0, name.lastIndexOf('.')))) {
      const found = registry.get(name);
      if (found) return found.file;
    }
    return undefined;
  }

  function answer(request: ServerReflectionRequest): Partial<ServerReflectionResponse> {
    if (request.listServices !== undefined) {
      return { listServicesResponse: { service: listed.map((name) => ({ name })) } };
    }
    if (request.fileByFilename !== undefined)
      return files(registry.getFile(request.fileByFilename));
    if (request.fileContainingSymbol !== undefined) {
      return files(fileOfSymbol(request.fileContainingSymbol));
    }
    if (request.fileContainingExtension !== undefined) {
      const { containingType, extensionNumber } = request.fileContainingExtension;
      const extendee = registry.getMessage(containingType);
      const extension = extendee && registry.getExtensionFor(extendee, extensionNumber);
      return files(extension?.file);
    }
    if (request.allExtensionNumbersOfType !== undefined) {
      const extendee = registry.getMessage(request.allExtensionNumbersOfType);
      if (!extendee || !visible.has(extendee.file)) return notFound('type not found');
      const numbers: number[] = [];
      for (const type of registry) {
        if (type.kind === 'extension' && type.extendee.typeName === extendee.typeName) {
          numbers.push(type.number);
        }
      }
      return {
        allExtensionNumbersResponse: { baseTypeName: extendee.typeName, extensionNumber: numbers },
      };
    }
    return { errorResponse: { errorCode: status.INVALID_ARGUMENT, errorMessage: 'empty request' } };
  }

  const implementation: ServerReflectionServer = {
    serverReflectionInfo(
      call: ServerDuplexStream<ServerReflectionRequest, ServerReflectionResponse>,
    ) {
      call.on('data', (request: ServerReflectionRequest) => {
        call.write({ validHost: request.host, originalRequest: request, ...answer(request) });
      });
      call.on('end', () => call.end());
      call.on('error', () => call.end());
    },
  };
  return {
    services: [
      { definition: ServerReflectionService, implementation },
      { definition: ServerReflectionServiceV1Alpha, implementation },
    ],
  };
}

function notFound(errorMessage: string): Partial<ServerReflectionResponse> {
  return { errorResponse: { errorCode: status.NOT_FOUND, errorMessage } };
}
