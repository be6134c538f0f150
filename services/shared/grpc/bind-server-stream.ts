import {
  Metadata,
  type ServerWritableStream,
  type ServiceDefinition,
  status,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { unavailable } from '../errors/server-error.js';
import { toGrpcStatus } from '../errors/to-grpc-status.js';
import type { Logger } from '../process/logger.js';
import { createServerRpcMetrics } from '../telemetry/rpc-metrics.js';
import type { BoundService } from './bind-service.js';
import { malformedRequestError, tolerantDeserializer } from './malformed-request.js';
import { meshCaller } from './mesh-caller.js';

/** What a stream handler knows about its call, besides the request. */
export interface StreamContext {
  /** Full method path, e.g. `/shop.user.v1.UserEventService/StreamUserEvents`. */
  readonly method: string;
  /** Aborted when the caller cancels or the server starts shutting down. */
  readonly signal: AbortSignal;
  readonly metadata: Metadata;
  readonly log: Logger;
}

/**
 * A server-streaming handler as services write it: `send` resolves once the
 * message is handed to the transport (it waits while the caller reads slower
 * than we write) and rejects once the stream is over; the handler's promise
 * resolves to end the stream with OK and rejects to end it with the error's
 * status (the one error mapper decides which).
 */
export type ServerStreamHandler<Req, Res> = (
  request: Req,
  send: (response: Res) => Promise<void>,
  context: StreamContext,
) => Promise<void>;

interface ServerStreamMethodDefinition<Req, Res> {
  readonly path: string;
  readonly requestStream: false;
  readonly responseStream: true;
  requestDeserialize(value: Buffer): Req;
  responseSerialize(value: Res): Buffer;
}

/** The typed implementation of a ts-proto service definition whose methods all stream responses. */
export type ServerStreamImplementation<Definition> = {
  [Method in keyof Definition]: Definition[Method] extends ServerStreamMethodDefinition<
    infer Req,
    infer Res
  >
    ? ServerStreamHandler<Req, Res>
    : never;
};

/** A bound streaming service, with the owner's way to end its open streams. */
export interface BoundStreamService extends BoundService {
  /** Ends every open stream with UNAVAILABLE, so a draining server does not wait for them. */
  close(): void;
}

export interface BindStreamOptions {
  log: Logger;
  /** False while the server is starting or draining: new streams are refused with UNAVAILABLE. */
  isReady(): boolean;
}

const shuttingDown = () =>
  unavailable('the server is shutting down; call again', 'SHUTTING_DOWN', { retryDelayMs: 1000 });

/**
 * The server-streaming counterpart of bindService (which binds unary methods
 * only), with the same cross-cutting concerns: undecodable requests are
 * INVALID_ARGUMENT (the same strict decoding), refusal while not ready,
 * the one error mapper, one access log line and one duration measurement per
 * stream when it ends. A stream has no deadline cap: it lives until the
 * caller cancels, the handler ends it, or the server shuts down.
 */
export function bindServerStreams<Definition extends object>(
  definition: Definition,
  implementation: ServerStreamImplementation<Definition>,
  options: BindStreamOptions,
): BoundStreamService {
  const rpcMetrics = createServerRpcMetrics();
  const open = new Set<AbortController>();
  const handlers: UntypedServiceImplementation = {};
  const tolerant: Record<string, ServiceDefinition[string]> = {};
  for (const name of Object.keys(definition) as (keyof Definition & string)[]) {
    const method = definition[name] as unknown as ServerStreamMethodDefinition<unknown, unknown>;
    const handler = implementation[name] as ServerStreamHandler<unknown, unknown>;
    tolerant[name] = {
      ...(method as unknown as ServiceDefinition[string]),
      requestDeserialize: tolerantDeserializer(method.requestDeserialize),
    };
    handlers[name] = (call: ServerWritableStream<unknown, unknown>) => {
      const started = performance.now();
      // Who called, as for unary calls (mesh-caller.ts).
      const log = options.log.child({ method: method.path, ...meshCaller(call.metadata) });
      const controller = new AbortController();
      let cancelled = call.cancelled;
      if (!cancelled) {
        call.once('cancelled', () => {
          cancelled = true;
          controller.abort();
        });
      }
      open.add(controller);
      let messages = 0;
      let settled = false;
      const finish = (error?: unknown) => {
        if (settled) return;
        settled = true;
        open.delete(controller);
        let code = status.OK;
        if (cancelled) code = status.CANCELLED;
        else if (error === undefined && !controller.signal.aborted) call.end();
        else {
          const grpcStatus = toGrpcStatus(error ?? shuttingDown(), method.path, log);
          code = grpcStatus.code ?? status.UNKNOWN;
          call.emit('error', grpcStatus);
        }
        const ms = performance.now() - started;
        rpcMetrics.record(method.path, code, ms / 1000);
        log.info({ code: status[code], duration_ms: Math.round(ms), messages }, 'rpc');
      };
      const send = (response: unknown) =>
        new Promise<void>((resolve, reject) => {
          if (controller.signal.aborted || settled) {
            reject(controller.signal.reason);
            return;
          }
          messages++;
          if (call.write(response)) resolve();
          else {
            const onAbort = () => reject(controller.signal.reason);
            controller.signal.addEventListener('abort', onAbort, { once: true });
            call.once('drain', () => {
              controller.signal.removeEventListener('abort', onAbort);
              resolve();
            });
          }
        });
      if (cancelled) return finish();
      if (!options.isReady()) {
        return finish(
          unavailable('the server is starting or shutting down; retry', 'NOT_SERVING', {
            retryDelayMs: 1000,
          }),
        );
      }
      const malformed = malformedRequestError(call.request);
      if (malformed) return finish(malformed);
      const context: StreamContext = {
        method: method.path,
        signal: controller.signal,
        metadata: call.metadata,
        log,
      };
      // Headers now, not with the first message: a caller following a quiet
      // stream learns at once that it is connected.
      call.sendMetadata(new Metadata());
      Promise.resolve()
        .then(() => handler(call.request, send, context))
        .then(
          () => finish(),
          // Once the server aborted the stream, whatever the handler threw on
          // the way out is the shutdown, not a failure of its own.
          (error: unknown) => finish(controller.signal.aborted ? undefined : error),
        );
    };
  }
  return {
    definition: tolerant,
    implementation: handlers,
    close() {
      for (const controller of open) controller.abort(shuttingDown());
    },
  };
}
