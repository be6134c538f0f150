// A minimal Kubernetes API client for the lab's node agent and bring-up:
// JSON over HTTPS with the lab's CA and the lab admin's bearer token.
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { apiserverUrl, stateDir } from './lab.js';

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    deletionTimestamp?: string;
    deletionGracePeriodSeconds?: number;
    resourceVersion?: string;
    [key: string]: unknown;
  };
  // biome-ignore lint/suspicious/noExplicitAny: the API's objects are open-ended JSON.
  spec?: any;
  // biome-ignore lint/suspicious/noExplicitAny: as above.
  status?: any;
  // biome-ignore lint/suspicious/noExplicitAny: ConfigMap and Secret data.
  data?: any;
}

export class KubeError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface Kube {
  call<T = KubeObject>(
    method: string,
    path: string,
    body?: unknown,
    contentType?: string,
  ): Promise<T>;
  get<T = KubeObject>(path: string): Promise<T>;
  list(path: string): Promise<KubeObject[]>;
}

export function labToken(): string {
  return readFileSync(join(stateDir, 'pki/admin-token'), 'utf8').trim();
}

export function connect(): Kube {
  const ca = readFileSync(join(stateDir, 'pki/ca.crt'));
  const token = labToken();
  const base = new URL(apiserverUrl);
  const call = <T>(method: string, path: string, body?: unknown, contentType?: string) =>
    new Promise<T>((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        {
          host: base.hostname,
          port: base.port,
          path,
          method,
          ca,
          timeout: 15_000,
          headers: {
            authorization: `Bearer ${token}`,
            accept: 'application/json',
            // A body with its length, never chunked: a DELETE with a chunked
            // body (the node agent's final pod delete) was answered `400 Bad
            // Request` and left the pod behind.
            ...(payload
              ? {
                  'content-type': contentType ?? 'application/json',
                  'content-length': Buffer.byteLength(payload),
                }
              : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if ((res.statusCode ?? 500) >= 300) {
              reject(
                new KubeError(
                  res.statusCode ?? 500,
                  `${method} ${path}: ${res.statusCode} ${text.slice(0, 400)}`,
                ),
              );
              return;
            }
            resolve((text ? JSON.parse(text) : {}) as T);
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timeout`)));
      req.on('error', reject);
      req.end(payload);
    });
  return {
    call,
    get: (path) => call('GET', path),
    list: async (path) => (await call<{ items: KubeObject[] }>('GET', path)).items,
  };
}
