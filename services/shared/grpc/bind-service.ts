import {
  type ServerUnaryCall,
  type ServiceDefinition,
  type sendUnaryData,
  status,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { callerGone, deadlineExceeded } from '../errors/server-error.js';
import { toGrpcStatus } from '../errors/to-grpc-status.js';
import type { Logger } from '../process/logger.js';
import { createServerRpcMetrics } from '../telemetry/rpc-metrics.js';
import {
  inServerSpan,
  type ServerSpan,
  serverSpanStarter,
  tracedByWrapper,
} from '../telemetry/server-span.js';
import type { CallContext } from './call-context.js';
import { malformedRequestError, tolerantDeserializer } from './malformed-request.js';
import { meshCaller } from './mesh-caller.js';
import { DEFAULT_MAX_CALL_MS } from './server-limits.js';

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
  /**
   * The longest a call may run (default DEFAULT_MAX_CALL_MS): a call without
   * a deadline gets this one, and a later deadline is clamped to it. When it
   * passes, the call answers DEADLINE_EXCEEDED and its signal aborts.
   */
  maxCallMs?: number;
}

/**
 * The definition as bound: each request decoded strictly, an undecodable one
 * let through as a marker (malformed-request.ts), and the method marked as
 * traced here, by the wrapper, not by the gRPC instrumentation.
 */
function acceptMalformedRequests(definition: ServiceDefinition): ServiceDefinition {
  const tolerant: Record<string, ServiceDefinition[string]> = {};
  for (const [name, method] of Object.entries(definition)) {
    const requestDeserialize = tolerantDeserializer(method.requestDeserialize);
    tolerant[name] = {
      ...method,
      requestDeserialize: Object.assign(requestDeserialize, { [tracedByWrapper]: true }),
    };
  }
  return tolerant;
}

function assertWellFormed(request: unknown): void {
  const error = malformedRequestError(request);
  if (error) throw error;
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

/**
 * Why a call's signal aborts when its stream closes. grpc-js emits `cancelled`
 * on every call's close, answered or not, so this runs once per call: one
 * reason made once, because `abort()` without one builds a DOMException with
 * its stack trace each time (about 4% of a GetUser's CPU).
 */
const streamClosed = new DOMException('The call ended: answered or cancelled', 'AbortError');

/**
 * Aborted when the call's stream closes: the caller cancelled, or the call
 * was answered and whatever still runs for it is waste (the deadline aborts
 * it too: see bindService).
 */
function abortControllerOf(call: ServerUnaryCall<unknown, unknown>): AbortController {
  const controller = new AbortController();
  if (call.cancelled) controller.abort(streamClosed);
  else call.once('cancelled', () => controller.abort(streamClosed));
  return controller;
}

/**
 * The deadline a call works to: the caller's, clamped to `maxCallMs` from
 * arrival, or that cap when the caller set none. The clamp also contains
 * grpc-js reading grpc-timeout into 32 bits: from about 597 hours the value
 * wraps, to a shorter deadline or to one already past (answered
 * DEADLINE_EXCEEDED at once, never blamed on a dependency).
 */
function deadlineOf(
  call: ServerUnaryCall<unknown, unknown>,
  receivedAt: number,
  maxCallMs: number,
): Date {
  const callers = call.getDeadline();
  const ms = callers instanceof Date ? callers.getTime() : callers;
  const cap = receivedAt + maxCallMs;
  return new Date(Number.isFinite(ms) ? Math.min(ms, cap) : cap);
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
 * the cross-cutting concerns: call context (a deadline clamped to the cap on
 * call duration and enforced, cancellation, logger),
 * undecodable requests (INVALID_ARGUMENT, not grpc-js's INTERNAL), middleware, the error mapper, one access log line and one
 * `rpc.server.call.duration` measurement per call, all inside the call's
 * server span (server-span.ts: made here once per call, in place of the gRPC
 * instrumentation's, which cost more per call; see docs/performance.md).
 */
export function bindService<Definition extends object>(
  definition: Definition,
  implementation: ServiceImplementation<Definition>,
  options: BindOptions,
): BoundService {
  const handlers: UntypedServiceImplementation = {};
  const rpcMetrics = createServerRpcMetrics();
  const maxCallMs = options.maxCallMs ?? DEFAULT_MAX_CALL_MS;
  for (const name of Object.keys(definition) as (keyof Definition & string)[]) {
    const method = (definition[name] as UnaryMethodDefinition<unknown, unknown>).path;
    const handler = compose(
      options.middleware ?? [],
      implementation[name] as UnaryHandler<unknown, unknown>,
    );
    const startSpan = serverSpanStarter(method);
    const serve = (
      call: ServerUnaryCall<unknown, unknown>,
      callback: sendUnaryData<unknown>,
      span: ServerSpan,
    ) => {
      const started = performance.now();
      const receivedAt = Date.now();
      // Who called and which attempt, when a sidecar says so (mesh-caller.ts).
      const log = options.log.child({ method, ...meshCaller(call.metadata) });
      const controller = abortControllerOf(call);
      const context: CallContext = {
        method,
        deadline: deadlineOf(call, receivedAt, maxCallMs),
        receivedAt,
        signal: controller.signal,
        metadata: call.metadata,
        call,
        log,
      };
      let settled = false;
      // One answer, one access line and one measurement per call, with the
      // code the caller actually got.
      const answer = (error: unknown, response?: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(expiry);
        let answered: status = status.OK;
        if (error === undefined) callback(null, response);
        else {
          const grpcStatus = toGrpcStatus(error, method, log);
          callback(grpcStatus);
          answered = grpcStatus.code ?? status.UNKNOWN;
        }
        const code = abortedStatus(context) ?? answered;
        const ms = performance.now() - started;
        rpcMetrics.record(method, code, ms / 1000);
        log.info({ code: status[code], duration_ms: Math.round(ms * 10) / 10 }, 'rpc');
        span.end(code);
      };
      // The deadline ends the call whatever the handler is waiting on.
      const expiry = setTimeout(
        () => {
          controller.abort();
          answer(deadlineExceeded());
        },
        Math.max(0, context.deadline.getTime() - Date.now()),
      );
      if (context.deadline.getTime() <= receivedAt) {
        answer(deadlineExceeded());
        return;
      }
      Promise.resolve()
        .then(() => {
          assertWellFormed(call.request);
          return handler(call.request, context);
        })
        .then(
          (response) => answer(undefined, response),
          (error: unknown) => answer(error),
        );
    };
    handlers[name] = (
      call: ServerUnaryCall<unknown, unknown>,
      callback: sendUnaryData<unknown>,
    ) => {
      const span = startSpan(call.metadata);
      inServerSpan(span, () => serve(call, callback, span));
    };
  }
  return {
    definition: acceptMalformedRequests(definition as unknown as ServiceDefinition),
    implementation: handlers,
  };
}
