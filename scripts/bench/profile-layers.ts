import { readFileSync } from 'node:fs';

/** The parts of a V8 .cpuprofile (node --cpu-prof) read here. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

/** One layer's share of a profile's busy (non-idle) time. */
export interface LayerShare {
  layer: string;
  ms: number;
  /** Of the busy time. */
  share: number;
}

/**
 * Which layer a script belongs to. Order matters: the first match wins.
 * Node's own code (node:…) has no layer: its time goes to the nearest caller
 * that has one (http2 writes to grpc-js, stdout writes to logging).
 */
const layers: [string, RegExp][] = [
  ['serialization (ts-proto, protobuf)', /\/services\/gen\/|@bufbuild\/protobuf|protobufjs/],
  [
    'OpenTelemetry: tracing',
    /@opentelemetry\/(?!sdk-metrics|exporter-prometheus)|\/telemetry\/(tracer|query-span|trace-fields)/,
  ],
  [
    'OpenTelemetry: metrics',
    /@opentelemetry\/(sdk-metrics|exporter-prometheus)|\/telemetry\/rpc-metrics/,
  ],
  [
    'logging (pino)',
    /pino|sonic-boom|fast-redact|@pinojs|safe-stable-stringify|quick-format|\/process\/logger/,
  ],
  ['storage (SQLite, SQL)', /better-sqlite3|\/sql\/|sql-store|\/pg\//],
  ['validation', /validation\.js|\/api\//],
  ['service handlers', /\/services\/(user|product)\//],
  ['server wrapper (bind-service, errors)', /\/shared\/(grpc|errors)\//],
  ['context propagation (async hooks)', /node:async_hooks|context-async-hooks/],
  ['grpc-js', /@grpc\/grpc-js/],
];

const layerOf = (url: string) => layers.find(([, pattern]) => pattern.test(url))?.[0];

/**
 * Splits a CPU profile's samples by layer: each sample's time goes to the
 * innermost frame on its stack that belongs to a layer, so a layer's figure
 * includes the Node internals it calls. GC and V8's own work stay apart.
 */
export function profileLayers(path: string): LayerShare[] {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parents.set(child, node.id);
  const selfUs = new Map<number, number>();
  for (const [i, id] of profile.samples.entries()) {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const totals = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const own = nodes.get(id)?.callFrame.functionName ?? '';
    // (idle), (garbage collector), (program): V8's own, on no stack.
    let layer = own.startsWith('(') && own !== '(anonymous)' ? own : undefined;
    for (let at: number | undefined = id; !layer && at !== undefined; at = parents.get(at)) {
      const url = nodes.get(at)?.callFrame.url ?? '';
      if (url.startsWith('node:') && !url.startsWith('node:async_hooks')) continue;
      layer = layerOf(url);
    }
    const key = layer ?? 'Node.js internals (net, http2, timers) outside any layer';
    totals.set(key, (totals.get(key) ?? 0) + us);
  }
  totals.delete('(idle)');
  const busy = [...totals.values()].reduce((a, b) => a + b, 0);
  return [...totals]
    .map(([layer, us]) => ({ layer, ms: us / 1000, share: us / busy }))
    .sort((a, b) => b.ms - a.ms);
}
