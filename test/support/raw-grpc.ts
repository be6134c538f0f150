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

/** A gRPC length-prefixed message: the compressed flag, a 4-byte length, the bytes. */
export function grpcFrame(message: Uint8Array, options: { compressed?: boolean } = {}): Buffer {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt8(options.compressed ? 1 : 0, 0);
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
}

export interface RawAnswer {
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
 * measure a trailer block that a grpc-js client would refuse.
 */
export function openRawSession(address: string): ClientHttp2Session {
  const session = connect(`http://${address}`, {
    settings: { maxHeaderListSize: 16 * 1024 * 1024 },
    maxHeaderListPairs: 100_000,
    maxSessionMemory: 1000,
  });
  session.on('error', () => {});
  return session;
}

/** One unary gRPC call, bytes in and bytes out; never rejects, reports how it ended. */
export function rawUnary(
  session: ClientHttp2Session,
  path: string,
  body: Buffer,
  options: { headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const stream = session.request({
      ':method': 'POST',
      ':path': path,
      'content-type': 'application/grpc',
      te: 'trailers',
      ...options.headers,
    });
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
      resolve({
        grpcStatus: raw === undefined ? undefined : Number(raw),
        grpcMessage: decodeURIComponent(String(block['grpc-message'] ?? '')),
        trailers: block,
        trailerBytes: headerListSize(block),
        body: Buffer.concat(chunks),
        ended,
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
