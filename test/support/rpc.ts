import {
  type CallOptions,
  type ServiceError as GrpcServiceError,
  Metadata,
  status,
} from '@grpc/grpc-js';
import { expect } from 'vitest';
import { type DecodedStatus, decodeStatus } from '../../services/shared/status-details.js';

type Callback<Res> = (error: GrpcServiceError | null, response: Res) => void;

/**
 * Calls one method of a generated grpc-js client and returns a promise:
 * `await rpc(client, 'getUser', { id })`.
 */
export function rpc<
  Client extends object,
  Name extends keyof Client,
  Req = Client[Name] extends (req: infer R, ...rest: never[]) => unknown ? R : never,
  Res = Client[Name] extends (
    req: never,
    md: Metadata,
    opts: Partial<CallOptions>,
    cb: Callback<infer R>,
  ) => unknown
    ? R
    : never,
>(
  client: Client,
  name: Name,
  request: Req,
  options: Partial<CallOptions> = {},
  metadata = new Metadata(),
): Promise<Res> {
  const method = client[name] as unknown as (
    req: Req,
    md: Metadata,
    opts: Partial<CallOptions>,
    cb: Callback<Res>,
  ) => unknown;
  return new Promise((resolve, reject) =>
    method.call(client, request, metadata, options, (error, response) =>
      error ? reject(error) : resolve(response),
    ),
  );
}

/** Awaits a call that must fail with `code`; returns its decoded rich status. */
export async function expectStatus(call: Promise<unknown>, code: status): Promise<DecodedStatus> {
  const error = await call.then(
    (response) => {
      throw new Error(
        `expected ${status[code]}, got a response: ${JSON.stringify(response, bigints)}`,
      );
    },
    (e: GrpcServiceError) => e,
  );
  expect(status[error.code], error.details).toBe(status[code]);
  return decodeStatus(error);
}

/** JSON.stringify replacer for messages with int64 fields. */
export function bigints(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

export const deadlineIn = (ms: number): Partial<CallOptions> => ({ deadline: Date.now() + ms });
