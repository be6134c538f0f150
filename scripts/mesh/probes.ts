// The kubelet's probe and lifecycle-hook handlers (EMULATED kubelet): httpGet,
// tcpSocket and grpc from the host to the pod's IP, as a kubelet probes from
// the node; exec inside the pod's namespaces.
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { connect } from 'node:net';
import * as grpc from '@grpc/grpc-js';

export interface Handler {
  httpGet?: {
    path?: string;
    port: number | string;
    host?: string;
    scheme?: string;
    httpHeaders?: { name: string; value: string }[];
  };
  tcpSocket?: { port: number | string; host?: string };
  grpc?: { port: number; service?: string };
  exec?: { command: string[] };
  sleep?: { seconds: number };
}

export interface ProbeTarget {
  ip: string;
  /** Resolves a named port of the container. */
  port(p: number | string): number;
  /** Runs a command inside the pod (as the container's user), resolving with its exit code. */
  exec(command: string[], timeoutMs: number): Promise<number>;
}

function httpGet(
  h: NonNullable<Handler['httpGet']>,
  t: ProbeTarget,
  timeoutMs: number,
): Promise<boolean> {
  return new Promise((resolve) => {
    const headers = Object.fromEntries((h.httpHeaders ?? []).map((x) => [x.name, x.value]));
    const req = request(
      {
        host: h.host ?? t.ip,
        port: t.port(h.port),
        path: h.path ?? '/',
        timeout: timeoutMs,
        headers,
      },
      (res) => {
        res.resume();
        resolve((res.statusCode ?? 500) >= 200 && (res.statusCode ?? 500) < 400);
      },
    );
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

function tcp(
  h: NonNullable<Handler['tcpSocket']>,
  t: ProbeTarget,
  timeoutMs: number,
): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: h.host ?? t.ip, port: t.port(h.port), timeout: timeoutMs }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
    s.on('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}

/** grpc.health.v1.Health/Check, encoded by hand: HealthCheckRequest{service=1}, HealthCheckResponse{status=1}. */
function grpcHealth(
  h: NonNullable<Handler['grpc']>,
  t: ProbeTarget,
  timeoutMs: number,
): Promise<boolean> {
  return new Promise((resolve) => {
    const client = new grpc.Client(`${t.ip}:${h.port}`, grpc.credentials.createInsecure());
    const service = Buffer.from(h.service ?? '', 'utf8');
    const request = service.length
      ? Buffer.concat([Buffer.from([0x0a, service.length]), service])
      : Buffer.alloc(0);
    client.makeUnaryRequest(
      '/grpc.health.v1.Health/Check',
      (b: Buffer) => b,
      (b: Buffer) => b,
      request,
      { deadline: Date.now() + timeoutMs },
      (err, res) => {
        client.close();
        resolve(!err && !!res && res.length >= 2 && res[0] === 0x08 && res[1] === 0x01);
      },
    );
  });
}

export async function runHandler(h: Handler, t: ProbeTarget, timeoutMs: number): Promise<boolean> {
  if (h.httpGet) return httpGet(h.httpGet, t, timeoutMs);
  if (h.tcpSocket) return tcp(h.tcpSocket, t, timeoutMs);
  if (h.grpc) return grpcHealth(h.grpc, t, timeoutMs);
  if (h.exec) return (await t.exec(h.exec.command, timeoutMs)) === 0;
  if (h.sleep) {
    await new Promise((r) => setTimeout(r, h.sleep?.seconds ? h.sleep.seconds * 1000 : 0));
    return true;
  }
  return true;
}

export function execIn(
  args: string[],
  env: Record<string, string>,
  timeoutMs: number,
): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(args[0] ?? 'false', args.slice(1), { env, stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve(code ?? 1);
    });
    child.on('error', () => resolve(1));
  });
}
