import type { CallOptions, Metadata as GrpcMetadata, ServiceError } from '@grpc/grpc-js';
import { Metadata } from '@grpc/grpc-js';

type Callback<Res> = (error: ServiceError | null, response: Res) => void;

/** The request type of a generated client's method. */
export type RequestOf<Method> = Method extends (request: infer Req, ...rest: never[]) => unknown
  ? Req
  : never;

/** The response type of a generated client's method (from its callback). */
export type ResponseOf<Method> = Method extends (
  request: never,
  metadata: GrpcMetadata,
  options: Partial<CallOptions>,
  callback: Callback<infer Res>,
) => unknown
  ? Res
  : never;

/**
 * One unary call of a generated grpc-js client as a promise:
 * `await unaryCall(client, 'getUser', { id }, { deadline })`. It rejects with
 * the grpc-js ServiceError (code, details, trailers). The one way this
 * project turns a callback call into a promise: services, tests and scripts.
 */
export function unaryCall<Client extends object, Name extends keyof Client>(
  client: Client,
  name: Name,
  request: RequestOf<Client[Name]>,
  options: Partial<CallOptions> = {},
  metadata: GrpcMetadata = new Metadata(),
): Promise<ResponseOf<Client[Name]>> {
  const method = client[name] as unknown as (
    request: RequestOf<Client[Name]>,
    metadata: GrpcMetadata,
    options: Partial<CallOptions>,
    callback: Callback<ResponseOf<Client[Name]>>,
  ) => unknown;
  return new Promise((resolve, reject) =>
    method.call(client, request, metadata, options, (error, response) =>
      error ? reject(error) : resolve(response),
    ),
  );
}
