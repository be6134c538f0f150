import type { Metadata } from '@grpc/grpc-js';
import {
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  trace,
} from '@opentelemetry/api';
import { tracer } from './tracer.js';

/**
 * Marks a method whose server span the handler wrapper makes itself (see
 * grpc-instrumentation.ts): set on the `requestDeserialize` of its bound
 * definition, the one thing grpc-js hands to `Server.register` unchanged.
 */
export const tracedByWrapper = Symbol.for('grpc-mesh-shop.server-span');

/** Reads W3C and B3 headers from grpc-js metadata; one object for every call. */
const metadataGetter: TextMapGetter<Metadata> = {
  get: (metadata, key) => metadata.get(key).map(String),
  keys: (metadata) => Object.keys(metadata.getMap()),
};

/** One call's server span: the context to run the handler in, and its end. */
export interface ServerSpan {
  /** The inbound trace context with the server span active in it. */
  readonly context: Context;
  /** Ends the span with the gRPC status code the caller got. */
  end(code: number): void;
}

/**
 * What @opentelemetry/instrumentation-grpc made for each call, made once per
 * call by the server wrapper instead (the instrumentation's version wraps
 * the call's emitter and its sendMetadata anew on every call). The same span:
 * named `grpc.<service>/<method>`, kind SERVER, child of the caller's
 * context as the global propagator reads it from the metadata, with
 * rpc.system, rpc.service, rpc.method and rpc.grpc.status_code, and status
 * ERROR for any code but OK. `path` is the grpc-js path,
 * `/shop.user.v1.UserService/GetUser`; names are worked out once per method.
 */
export function serverSpanStarter(path: string): (metadata: Metadata) => ServerSpan {
  const [service = '', method = ''] = path.slice(1).split('/');
  const name = `grpc.${service}/${method}`;
  const options = {
    kind: SpanKind.SERVER,
    attributes: { 'rpc.system': 'grpc', 'rpc.method': method, 'rpc.service': service },
  };
  return (metadata) => {
    const parent = propagation.extract(ROOT_CONTEXT, metadata, metadataGetter);
    const span = tracer().startSpan(name, options, parent);
    return {
      context: trace.setSpan(parent, span),
      end(code) {
        span.setAttribute('rpc.grpc.status_code', code);
        if (code !== 0) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      },
    };
  };
}

/** Runs `fn` with the span's context active, so handler spans and outbound calls are its children. */
export function inServerSpan<T>(span: ServerSpan, fn: () => T): T {
  return context.with(span.context, fn);
}
