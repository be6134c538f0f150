// What a reflection request is answered with, from the descriptor set buf
// built. Loaded on first use (reflection.ts): parsing the descriptors and
// loading @bufbuild/protobuf costs tens of milliseconds that start-up should
// not pay.
import type { DescFile } from '@bufbuild/protobuf';
import { toBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { status } from '@grpc/grpc-js';
import type {
  ServerReflectionRequest,
  ServerReflectionResponse,
} from '../../gen/grpc/reflection/v1/reflection.pb.js';
import { protoRegistry, withDependencies } from './descriptors.js';
import { errorDetailFiles } from './error-detail-files.js';

export type Answer = (request: ServerReflectionRequest) => Partial<ServerReflectionResponse>;

/**
 * Answers for a server that lists `listed`: it resolves only symbols from the
 * files those services need (plus error details).
 */
export function createAnswers(listed: readonly string[]): Answer {
  const registry = protoRegistry();
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

  return answer;
}

function notFound(errorMessage: string): Partial<ServerReflectionResponse> {
  return { errorResponse: { errorCode: status.NOT_FOUND, errorMessage } };
}
