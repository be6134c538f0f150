import { fromBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { credentials } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ServerReflectionClient,
  type ServerReflectionRequest,
  type ServerReflectionResponse,
} from '../../services/gen/grpc/reflection/v1/reflection.pb.js';
import type { UserServiceClient } from '../../services/gen/shop/user/v1/user_service.pb.js';
import { type Running, startUserService } from '../support/services.js';

let users: Running<UserServiceClient>;
let reflection: ServerReflectionClient;
beforeAll(async () => {
  users = await startUserService();
  reflection = new ServerReflectionClient(users.address, credentials.createInsecure());
});
afterAll(async () => {
  reflection.close();
  await users.stop();
});

/** One request on a fresh reflection stream. */
function ask(request: Partial<ServerReflectionRequest>): Promise<ServerReflectionResponse> {
  return new Promise((resolve, reject) => {
    const stream = reflection.serverReflectionInfo();
    stream.once('data', (response: ServerReflectionResponse) => {
      resolve(response);
      stream.end();
    });
    stream.once('error', reject);
    stream.write({ host: '', ...request });
  });
}

const fileNames = (response: ServerReflectionResponse) =>
  (response.fileDescriptorResponse?.fileDescriptorProto ?? []).map(
    (bytes) => fromBinary(FileDescriptorProtoSchema, bytes).name,
  );

describe('server reflection', () => {
  it('lists only this server’s services, plus health and reflection', async () => {
    const response = await ask({ listServices: '' });
    expect(response.listServicesResponse?.service.map((s) => s.name).sort()).toEqual([
      'grpc.health.v1.Health',
      'grpc.reflection.v1.ServerReflection',
      'grpc.reflection.v1alpha.ServerReflection',
      'shop.user.v1.UserEventService',
      'shop.user.v1.UserService',
    ]);
  });

  it('serves real descriptors whose imports are listed and included', async () => {
    const response = await ask({ fileContainingSymbol: 'shop.user.v1.UserService' });
    const [file, ...dependencies] = (
      response.fileDescriptorResponse?.fileDescriptorProto ?? []
    ).map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes));
    expect(file?.name).toBe('shop/user/v1/user_service.proto');
    // google/api: the methods' HTTP bindings (google.api.http), which grpcurl
    // needs to parse the file's options.
    expect(file?.dependency).toEqual([
      'google/api/annotations.proto',
      'google/protobuf/timestamp.proto',
    ]);
    expect(dependencies.map((d) => d.name).sort()).toEqual([
      'google/api/annotations.proto',
      'google/api/http.proto',
      'google/protobuf/descriptor.proto',
      'google/protobuf/timestamp.proto',
    ]);
    // Comments survive, so `grpcurl describe` shows them.
    expect(
      file?.sourceCodeInfo?.location.some((l) => l.leadingComments.includes('registers')),
    ).toBe(true);
  });

  it('resolves methods, nested names and error detail types', async () => {
    expect(
      fileNames(await ask({ fileContainingSymbol: 'shop.user.v1.UserService.GetUser' }))[0],
    ).toBe('shop/user/v1/user_service.proto');
    expect(
      fileNames(await ask({ fileContainingSymbol: 'google.rpc.BadRequest.FieldViolation' }))[0],
    ).toBe('google/rpc/error_details.proto');
    expect(fileNames(await ask({ fileByFilename: 'google/protobuf/timestamp.proto' }))).toEqual([
      'google/protobuf/timestamp.proto',
    ]);
  });

  it('does not describe a neighbour’s API', async () => {
    for (const request of [
      { fileContainingSymbol: 'shop.product.v1.ProductService' },
      { fileByFilename: 'shop/product/v1/product_service.proto' },
      { fileContainingSymbol: 'no.such.Thing' },
    ]) {
      expect((await ask(request)).errorResponse?.errorCode).toBe(5 /* NOT_FOUND */);
    }
  });
});
