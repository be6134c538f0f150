// How the mesh checks reach into the lab (scripts/mesh, docs/mesh-lab.md):
// grpcurl and ghz from the host or from inside a pod (its network and mount
// namespaces, as the container's user, so its sidecar intercepts the call as
// it would the app's), kubectl on the lab's API server, a container's log
// lines and a proxy's Envoy admin counters. The lab's state is in .mesh-lab/.
import { execFile, execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { mintLabToken } from '../../scripts/lib/lab-token.js';
import { prometheusUrl } from '../../scripts/mesh/prometheus.js';
import { instantQuery } from '../k8s/prometheus.js';
import { grpcurl } from '../support/grpcurl.js';

export const repo = join(import.meta.dirname, '../..');
export const lab = join(repo, '.mesh-lab');
const tools = join(repo, '.tools/bin');
export const run = promisify(execFile);

const protoArgs = [
  ...['-import-path', join(repo, 'proto')],
  ...['-proto', 'shop/user/v1/user_service.proto'],
  ...['-proto', 'shop/product/v1/product_service.proto'],
  ...['-proto', 'google/rpc/error_details.proto', '-proto', 'grpc/health/v1/health.proto'],
];

export interface Result {
  ok: boolean;
  out: string;
  ms: number;
}

/** One grpcurl call (test/support/grpcurl.ts), from the host or (with `inPod(...)` as prefix) from inside a pod. */
export async function call(
  address: string,
  method: string,
  body: unknown,
  options: {
    prefix?: string[];
    headers?: Record<string, string>;
    maxTime?: number;
    /** grpcurl -v: the output also holds the response headers and trailers. */
    verbose?: boolean;
  } = {},
): Promise<Result> {
  const headers = Object.entries(options.headers ?? {}).flatMap(([k, v]) => ['-H', `${k}: ${v}`]);
  const started = performance.now();
  const r = await grpcurl(
    [...(options.verbose ? ['-v'] : []), ...protoArgs, ...headers, address, method],
    body,
    { prefix: options.prefix, maxTime: options.maxTime ?? 5 },
  );
  return { ok: r.code === 0, out: r.stdout + r.stderr, ms: performance.now() - started };
}

/** The lab's folders of the pods whose `<namespace>_<name>` starts with the prefix. */
export function podDirs(prefix: string): string[] {
  return readdirSync(join(lab, 'pods')).filter((d) => d.startsWith(prefix));
}

function podNumber(dir: string): string {
  return dir.split('_').pop() as string;
}

/** The host pid of a pod's container (its process as the agent started it). */
export function containerPid(dir: string, container: string): number {
  return Number(
    readFileSync(join(lab, 'pids', `pod-${podNumber(dir)}-${container}.pid`), 'utf8').trim(),
  );
}

/**
 * A command prefix that runs inside a pod's network and mount namespaces,
 * as uid 1000 (an app container's user; the sidecar intercepts its traffic)
 * or, with `asRoot`, as root (for the proxy's admin port and tools).
 */
export function inPod(podPrefix: string, options: { asRoot?: boolean } = {}): string[] {
  const dir = podDirs(podPrefix).at(-1);
  if (!dir) throw new Error(`no pod ${podPrefix}`);
  const holder = readFileSync(join(lab, 'pids', `pod-${podNumber(dir)}-sandbox.pid`), 'utf8');
  const enter = ['nsenter', '-t', holder.trim(), '-m', '-n', '--'];
  if (options.asRoot) return enter;
  return [...enter, 'setpriv', '--reuid=1000', '--regid=1000', '--clear-groups', '--'];
}

export function kubectl(...args: string[]): string {
  return kubectlWithInput(undefined, ...args);
}

/** kubectl with `input` on its standard input (`create -f -`). */
export function kubectlWithInput(input: string | undefined, ...args: string[]): string {
  return execFileSync('kubectl', [`--kubeconfig=${join(lab, 'kubeconfig')}`, ...args], {
    encoding: 'utf8',
    input,
    maxBuffer: 64 << 20,
  });
}

export { prometheusUrl };

/** An instant query to the lab's Prometheus: the result vector, or a thrown error with Prometheus's message. */
export async function promQuery(
  expr: string,
): Promise<{ metric: Record<string, string>; value?: unknown }[]> {
  const answer = await instantQuery(prometheusUrl, expr);
  if (answer.status !== 'success') throw new Error(`${expr}: ${answer.error}`);
  return answer.data?.result ?? [];
}

export function podIps(namespace: string, labelSelector: string): string[] {
  return kubectl(
    ...['-n', namespace, 'get', 'pods', '-l', labelSelector],
    ...['-o', 'jsonpath={range .items[*]}{.status.podIP}{"\\n"}{end}'],
  )
    .split('\n')
    .filter(Boolean);
}

/** The JSON lines a container wrote so far (the agent keeps each container's output in a file). */
export function logLines(podPrefix: string, container: string): Record<string, unknown>[] {
  return podDirs(podPrefix).flatMap((dir) => {
    let text = '';
    try {
      text = readFileSync(join(lab, 'pods', dir, `${container}.log`), 'utf8');
    } catch {
      return [];
    }
    return text.split('\n').flatMap((line) => {
      if (!line.startsWith('{')) return [];
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  });
}

/**
 * A proxy's upstream endpoints per cluster, from Envoy's admin `/clusters`:
 * requests sent so far and health flags (`healthy`, or e.g.
 * `/failed_outlier_check` while outlier detection has ejected the host).
 */
export async function upstreamHosts(
  podPrefix: string,
): Promise<{ cluster: string; host: string; total: number; health: string }[]> {
  const prefix = inPod(podPrefix, { asRoot: true });
  const { stdout } = await run(prefix[0] as string, [
    ...prefix.slice(1),
    'curl',
    '-s',
    '127.0.0.1:15000/clusters',
  ]);
  const hosts = new Map<string, { cluster: string; host: string; total: number; health: string }>();
  for (const line of stdout.split('\n')) {
    const [cluster, host, stat, value] = line.split('::');
    if (!cluster || !host || value === undefined) continue;
    const key = `${cluster}::${host}`;
    const entry = hosts.get(key) ?? { cluster, host, total: 0, health: '' };
    if (stat === 'rq_total') entry.total = Number(value);
    else if (stat === 'health_flags') entry.health = value;
    else continue;
    hosts.set(key, entry);
  }
  return [...hosts.values()];
}

export interface GhzReport {
  count: number;
  statusCodeDistribution: Record<string, number>;
  errorDistribution?: Record<string, number>;
}

/** ghz against `address`, from inside a pod when a prefix is given; resolves with its JSON report. */
export async function ghz(
  address: string,
  method: string,
  options: { prefix?: string[]; data: unknown; args: string[] },
): Promise<GhzReport> {
  const proto = method.startsWith('shop.user')
    ? 'shop/user/v1/user_service.proto'
    : 'shop/product/v1/product_service.proto';
  const args = [
    ...(options.prefix ?? []),
    join(tools, 'ghz'),
    ...['--insecure', '--import-paths', join(repo, 'proto'), '--proto', proto],
    ...['--call', method, '-d', JSON.stringify(options.data), '--format', 'json'],
    ...options.args,
    address,
  ];
  const { stdout } = await run(args[0] as string, args.slice(1), { maxBuffer: 64 << 20 }).catch(
    (e: { stdout?: string }) => ({ stdout: e.stdout ?? '{}' }),
  );
  return JSON.parse(stdout) as GhzReport;
}

export const failedCalls = (r: GhzReport) => r.count - (r.statusCodeDistribution.OK ?? 0);

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Headers that authenticate a call through the lab's gateway as `subject`
 * (a user id): a lab token (scripts/lib/lab-token.ts, docs/gateway.md).
 */
export function asUser(subject: string): Record<string, string> {
  return { authorization: `Bearer ${mintLabToken({ subject })}` };
}

/** The ingress gateway's access lines so far (mesh/gateway-access-log.yaml). */
export function gatewayAccessLines(): Record<string, unknown>[] {
  return logLines('istio-system_istio-ingressgateway', 'istio-proxy').filter(
    (l) => 'path' in l && 'grpc_status' in l,
  );
}
