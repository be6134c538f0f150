// A gRPC caller that speaks raw HTTP/2 (node:http2), for the tests that must
// send what a generated client never would (a bad grpc-timeout, a frame
// flagged compressed, a huge body) or measure what the server put on the
// wire (the size of its trailers), which grpc-js hides or refuses to read.
import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  connect,
  type IncomingHttpHeaders,
} from 'node:http2';
import { status } from '@grpc/grpc-js';

/** A gRPC length-prefixed message: the compressed flag, a 4-byte length, the bytes. */
export function grpcFrame(message: Uint8Array, options: { compressed?: boolean } = {}): Buffer {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt8(options.compressed ? 1 : 0, 0);
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
}

export interface RawAnswer {
  /** The HTTP :status of the response headers; undefined if none came. */
  httpStatus: number | undefined;
  /** grpc-status, from the trailers (or the headers of a trailers-only answer); undefined if none came. */
  grpcStatus: number | undefined;
  /** grpc-message, percent-decoded. */
  grpcMessage: string;
  /** The header block that carried grpc-status. */
  trailers: IncomingHttpHeaders;
  /**
   * Its size as HTTP/2 counts it against SETTINGS_MAX_HEADER_LIST_SIZE
   * (RFC 9113 §6.5.2: name + value + 32 per field), which is what grpc-js
   * (~64 KB) and Envoy limit.
   */
  trailerBytes: number;
  /** The response body (length-prefixed messages). */
  body: Buffer;
  /** How the stream ended: `end`, or the RST_STREAM / session error. */
  ended: string;
  /** The RST_STREAM code the stream closed with (0, NO_ERROR, when it ended cleanly). */
  rstCode: number;
}

/** RFC 9113 §6.5.2 header list size of a decoded header block. */
export function headerListSize(headers: IncomingHttpHeaders): number {
  let size = 0;
  for (const [name, value] of Object.entries(headers)) {
    for (const one of Array.isArray(value) ? value : [value ?? '']) {
      size += Buffer.byteLength(name) + Buffer.byteLength(String(one)) + 32;
    }
  }
  return size;
}

/**
 * An HTTP/2 session that accepts header blocks of any size, so a test can
 * measure a trailer block that a grpc-js client would refuse, and sends
 * header blocks of any size (Node's own limit is 64 KiB), so a test can send
 * metadata no real client would.
 */
export function openRawSession(address: string): ClientHttp2Session {
  const session = connect(`http://${address}`, {
    settings: { maxHeaderListSize: 16 * 1024 * 1024 },
    maxHeaderListPairs: 100_000,
    maxSendHeaderBlockLength: 16 * 1024 * 1024,
    maxSessionMemory: 1000,
  });
  session.on('error', () => {});
  return session;
}

/**
 * Headers of a raw call, on top of (or instead of) the defaults: `:method`
 * POST, `content-type: application/grpc`, `te: trailers`. A header set to
 * undefined is not sent at all.
 */
export type RawHeaders = Record<string, string | string[] | undefined>;

/**
 * One unary gRPC call, bytes in and bytes out; never rejects, reports how it
 * ended (also when the session refuses to send the request: `ended` says why).
 */
export function rawUnary(
  session: ClientHttp2Session,
  path: string,
  body: Buffer,
  options: { headers?: RawHeaders; timeoutMs?: number } = {},
): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const requestHeaders: Record<string, string | string[]> = {};
    const given = {
      ':method': 'POST',
      ':path': path,
      'content-type': 'application/grpc',
      te: 'trailers',
      ...options.headers,
    };
    for (const [name, value] of Object.entries(given)) {
      if (value !== undefined) requestHeaders[name] = value;
    }
    let stream: ClientHttp2Stream;
    try {
      // endStream false: Node ends a GET, HEAD or DELETE at once, before its body, unless told.
      stream = session.request(requestHeaders, { endStream: false });
    } catch (error) {
      resolve(unanswered(`refused: ${(error as Error).message}`));
      return;
    }
    const chunks: Buffer[] = [];
    let headers: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders | undefined;
    let settled = false;
    const finish = (ended: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const block = trailers ?? headers;
      const raw = block['grpc-status'];
      const http = headers[':status'];
      resolve({
        httpStatus: http === undefined ? undefined : Number(http),
        grpcStatus: raw === undefined ? undefined : Number(raw),
        grpcMessage: decodeURIComponent(String(block['grpc-message'] ?? '')),
        trailers: block,
        trailerBytes: headerListSize(block),
        body: Buffer.concat(chunks),
        ended,
        rstCode: stream.rstCode ?? 0,
      });
    };
    const timer = setTimeout(() => {
      stream.close();
      finish('timeout');
    }, options.timeoutMs ?? 5000);
    stream.on('response', (h) => {
      headers = h;
    });
    stream.on('trailers', (t) => {
      trailers = t;
    });
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => finish('end'));
    stream.on('close', () => finish(`close (rst ${stream.rstCode})`));
    stream.on('error', (error: Error) => finish(`error: ${error.message}`));
    stream.end(body);
  });
}

function unanswered(ended: string): RawAnswer {
  return {
    httpStatus: undefined,
    grpcStatus: undefined,
    grpcMessage: '',
    trailers: {},
    trailerBytes: 0,
    body: Buffer.alloc(0),
    ended,
    rstCode: 0,
  };
}

/**
 * What a raw call got, as one word for counting: the gRPC status name
 * (`INVALID_ARGUMENT`), else an HTTP status other than 200 (`HTTP 415`),
 * else how the stream ended without an answer: `RESET <code>` (by the
 * server, or with the session), `TIMEOUT` (nothing in timeoutMs), `REFUSED` (the
 * session would not send it).
 */
export function answerLabel(answer: RawAnswer): string {
  if (answer.grpcStatus !== undefined)
    return status[answer.grpcStatus] ?? `grpc ${answer.grpcStatus}`;
  if (answer.ended === 'timeout') return 'TIMEOUT';
  if (answer.ended.startsWith('refused')) return 'REFUSED';
  if (answer.httpStatus !== undefined && answer.httpStatus !== 200)
    return `HTTP ${answer.httpStatus}`;
  return `RESET ${rstCodes[answer.rstCode] ?? answer.rstCode}`;
}

/** RFC 9113 §7 error codes, by value. */
const rstCodes = [
  'NO_ERROR',
  'PROTOCOL_ERROR',
  'INTERNAL_ERROR',
  'FLOW_CONTROL_ERROR',
  'SETTINGS_TIMEOUT',
  'STREAM_CLOSED',
  'FRAME_SIZE_ERROR',
  'REFUSED_STREAM',
  'CANCEL',
  'COMPRESSION_ERROR',
  'CONNECT_ERROR',
  'ENHANCE_YOUR_CALM',
  'INADEQUATE_SECURITY',
  'HTTP_1_1_REQUIRED',
];

/**
 * A gRPC call's stream with its headers sent and the request body left
 * open: write to it, or hold it half-sent as an abusive caller would.
 */
export function openStream(session: ClientHttp2Session, path: string): ClientHttp2Stream {
  const stream = session.request(
    { ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' },
    { endStream: false },
  );
  stream.on('error', () => {});
  return stream;
}
