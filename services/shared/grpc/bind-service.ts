import {
  type ServerUnaryCall,
  type ServiceDefinition,
  type sendUnaryData,
  status,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { callerGone, ServerError } from '../errors/server-error.js';
import { toGrpcStatus } from '../errors/to-grpc-status.js';
import type { Logger } from '../process/logger.js';
import { createServerRpcMetrics } from '../telemetry/rpc-metrics.js';
import type { CallContext } from './call-context.js';

/** A handler as services write it: the request in, a promise of the response out. */
export type UnaryHandler<Req, Res> = (request: Req, context: CallContext) => Promise<Res>;

/** The shape of one unary method in a ts-proto `…Service` definition. */
interface UnaryMethodDefinition<Req, Res> {
  readonly path: string;
  readonly requestStream: false;
  readonly responseStream: false;
  requestDeserialize(value: Buffer): Req;
  responseSerialize(value: Res): Buffer;
}

/**
 * The typed implementation of a ts-proto service definition: one async
 * handler per RPC, with request and response types taken from the generated
 * code, so the proto stays the single source of truth.
 */
export type ServiceImplementation<Definition> = {
  [Method in keyof Definition]: Definition[Method] extends UnaryMethodDefinition<
    infer Req,
    infer Res
  >
    ? UnaryHandler<Req, Res>
    : never;
};

/**
 * Wraps one handler of a call, e.g. to add trace attributes or check a
 * header. Middleware run outermost first, inside error mapping and access
 * logging, which every call gets.
 */
export type ServerMiddleware = <Req, Res>(
  request: Req,
  context: CallContext,
  next: UnaryHandler<Req, Res>,
) => Promise<Res>;

export interface BindOptions {
  log: Logger;
  middleware?: readonly ServerMiddleware[];
}

/** Stands in for a request whose bytes are not a valid protobuf message. */
class MalformedRequest {}

/**
 * grpc-js answers a request that fails to deserialize with INTERNAL, which
 * blames the server for the caller's bytes, and before any handler runs. The
 * bound definition lets such a request through as a marker instead, which the
 * handler wrapper answers with INVALID_ARGUMENT like any other bad input,
 * access line and metrics included.
 */
function acceptMalformedRequests(definition: ServiceDefinition): ServiceDefinition {
  const tolerant: Record<string, ServiceDefinition[string]> = {};
  for (const [name, method] of Object.entries(definition)) {
    tolerant[name] = {
      ...method,
      requestDeserialize(bytes: Buffer) {
        try {
          return method.requestDeserialize(bytes);
        } catch {
          return new MalformedRequest();
        }
      },
    };
  }
  return tolerant;
}

function assertWellFormed(request: unknown): void {
  if (request instanceof MalformedRequest) {
    throw new ServerError(
      status.INVALID_ARGUMENT,
      'the request is not a valid protobuf message for this method',
      { reason: 'MALFORMED_REQUEST' },
    );
  }
}

/** What `server.addService` takes: the definition as bound and its handlers. */
export interface BoundService {
  definition: ServiceDefinition;
  implementation: UntypedServiceImplementation;
}

/**
 * The status the caller saw when the call was cancelled or timed out before
 * the handler answered: grpc-js has already sent it and drops the late answer.
 */
function abortedStatus(context: CallContext): status | undefined {
  return context.signal.aborted ? callerGone(context).code : undefined;
}

/** Aborts when the call is cancelled by the caller or its deadline passes. */
function abortSignalOf(call: ServerUnaryCall<unknown, unknown>): AbortSignal {
  const controller = new AbortController();
  if (call.cancelled) controller.abort();
  else call.once('cancelled', () => controller.abort());
  return controller.signal;
}

function deadlineOf(call: ServerUnaryCall<unknown, unknown>): Date | undefined {
  const deadline = call.getDeadline();
  if (deadline instanceof Date) return deadline;
  return Number.isFinite(deadline) ? new Date(deadline) : undefined;
}

function compose<Req, Res>(
  middleware: readonly ServerMiddleware[],
  handler: UnaryHandler<Req, Res>,
): UnaryHandler<Req, Res> {
  return middleware.reduceRight<UnaryHandler<Req, Res>>(
    (next, mw) => (request, context) => mw(request, context, next),
    handler,
  );
}

/**
 * Adapts a typed implementation to grpc-js, wrapping every handler once with
 * the cross-cutting concerns: call context (deadline, cancellation, logger),
 * undecodable requests (INVALID_ARGUMENT, not grpc-js's INTERNAL), middleware, the error mapper, one access log line and one
 * `rpc.server.call.duration` measurement per call. (The server span around
 * it all comes from the gRPC instrumentation of the telemetry preload.)
 */
export function bindService<Definition extends object>(
  definition: Definition,
  implementation: ServiceImplementation<Definition>,
  options: BindOptions,
): BoundService {
  const handlers: UntypedServiceImplementation = {};
  const rpcMetrics = createServerRpcMetrics();
  for (const name of Object.keys(definition) as (keyof Definition & string)[]) {
    const method = (definition[name] as UnaryMethodDefinition<unknown, unknown>).path;
    const handler = compose(
      options.middleware ?? [],
      implementation[name] as UnaryHandler<unknown, unknown>,
    );
    handlers[name] = (
      call: ServerUnaryCall<unknown, unknown>,
      callback: sendUnaryData<unknown>,
    ) => {
      const started = performance.now();
      const log = options.log.child({ method });
      const context: CallContext = {
        method,
        deadline: deadlineOf(call),
        receivedAt: Date.now(),
        signal: abortSignalOf(call),
        metadata: call.metadata,
        call,
        log,
      };
      // One access line and one measurement per call, with the code the
      // caller actually got.
      const finish = (answered: status) => {
        const code = abortedStatus(context) ?? answered;
        const ms = performance.now() - started;
        rpcMetrics.record(method, code, ms / 1000);
        log.info({ code: status[code], duration_ms: Math.round(ms * 10) / 10 }, 'rpc');
      };
      Promise.resolve()
        .then(() => {
          assertWellFormed(call.request);
          return handler(call.request, context);
        })
        .then(
          (response) => {
            callback(null, response);
            finish(status.OK);
          },
          (error: unknown) => {
            const grpcStatus = toGrpcStatus(error, method, log);
            callback(grpcStatus);
            finish(grpcStatus.code ?? status.UNKNOWN);
          },
        );
    };
  }
  return {
    definition: acceptMalformedRequests(definition as unknown as ServiceDefinition),
    implementation: handlers,
  };
}
