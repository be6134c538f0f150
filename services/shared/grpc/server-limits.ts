// Imports nothing: the services' config (read by the telemetry preload,
// before anything may load @grpc/grpc-js) takes its defaults from here.

/** Default cap on a call's duration: every RPC of ours answers in well under a second. */
export const DEFAULT_MAX_CALL_MS = 30_000;

/**
 * What one server lets its callers hold. With the defaults, 100 connections
 * holding every stream they may with half-sent requests, or 20,000 streams
 * opened and reset, keep UserService under 200 MB, inside its 256 MiB pod
 * (docs/hardening.md has the figures); they are far above what our own
 * calls need: no request of ours is over a few KB, no call over a second.
 * No limit here bounds the number of connections: that is the mesh's job.
 */
export interface ServerLimits {
  /**
   * GRPC_MAX_RECEIVE_MESSAGE_SIZE: largest request message in bytes (default
   * 64 KiB; grpc-js's own default is 4 MiB). A larger one is
   * RESOURCE_EXHAUSTED as soon as its length prefix arrives, before it is
   * buffered.
   */
  maxReceiveMessageBytes: number;
  /**
   * GRPC_MAX_CONCURRENT_STREAMS: calls one connection may have open at once
   * (default 20). A stream the caller never finishes sending stays open (and
   * holds about 28 KB) even after the server has answered it, until the
   * caller resets it or the connection closes, so this, times the number of
   * connections, is what bounds memory against half-sent calls. Envoy opens
   * more upstream connections when it needs more streams; a grpc-js client
   * queues its calls.
   */
  maxConcurrentStreams: number;
  /**
   * GRPC_MAX_CONCURRENT_CALLS: calls the whole process may have in progress
   * at once, over all connections (default 1000); more are answered
   * RESOURCE_EXHAUSTED at once, before any work is done for them.
   */
  maxConcurrentCalls: number;
  /**
   * GRPC_REQUEST_RECEIVE_TIMEOUT: a request must have fully arrived this long
   * after its headers (default 5s; ours arrive in milliseconds), or the call
   * is answered DEADLINE_EXCEEDED, so a caller cannot hold half-sent calls
   * open.
   */
  requestReceiveTimeoutMs: number;
  /**
   * GRPC_MAX_CONNECTION_IDLE: a connection without calls for this long is
   * closed with GOAWAY (default 5m); clients reconnect when they need to.
   */
  maxConnectionIdleMs: number;
  /**
   * GRPC_MAX_CONNECTION_AGE: a connection is asked to go away (GOAWAY)
   * after this long (default 30m), so clients rebalance across replicas
   * and no connection is held forever.
   */
  maxConnectionAgeMs: number;
  /**
   * GRPC_MAX_CONNECTION_AGE_GRACE: calls in flight on a connection past its
   * age get this long to finish before it is closed (default 35s: longer
   * than the cap on call duration, so no well-behaved call is cut).
   */
  maxConnectionAgeGraceMs: number;
  /** GRPC_KEEPALIVE_TIME: the server pings a connection idle this long (default 60s). */
  keepaliveTimeMs: number;
  /** GRPC_KEEPALIVE_TIMEOUT: and closes it when the ping is not answered in this (default 20s). */
  keepaliveTimeoutMs: number;
  /**
   * GRPC_MAX_SESSION_MEMORY: megabytes of HTTP/2 state and buffers one
   * connection may hold before new streams on it are refused (default 10,
   * Node's own default, stated here so it is a decision).
   */
  maxSessionMemoryMb: number;
}

export const defaultServerLimits: Readonly<ServerLimits> = {
  maxReceiveMessageBytes: 64 * 1024,
  maxConcurrentStreams: 20,
  maxConcurrentCalls: 1000,
  requestReceiveTimeoutMs: 5000,
  maxConnectionIdleMs: 5 * 60_000,
  maxConnectionAgeMs: 30 * 60_000,
  maxConnectionAgeGraceMs: 35_000,
  keepaliveTimeMs: 60_000,
  keepaliveTimeoutMs: 20_000,
  maxSessionMemoryMb: 10,
};
