// A trace from Jaeger's query API drawn as a terminal waterfall: one line per
// span, children under their parent (by start time), with service, kind,
// start offset, duration, a bar on the trace's time axis, status and the
// attributes a reader needs. Pure: trace JSON in, lines out.

/** A key/value as Jaeger returns span tags. */
export interface JaegerTag {
  key: string;
  value: unknown;
}

/** A span as Jaeger's query API returns it (the fields drawn). */
export interface JaegerSpan {
  spanID: string;
  operationName: string;
  references: { refType: string; spanID: string }[];
  /** Microseconds since the epoch. */
  startTime: number;
  /** Microseconds. */
  duration: number;
  /** Attributes, plus `span.kind`, `otel.status_code`, `otel.status_description`, `error`. */
  tags: JaegerTag[];
  processID: string;
  warnings?: string[] | null;
}

/** One element of `data` in `/api/traces/<id>` and `/api/traces?service=…`. */
export interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  /** By processID: the span's resource; `serviceName` is its `service.name`. */
  processes: Record<string, { serviceName: string }>;
  warnings?: string[] | null;
}

export interface RenderOptions {
  /** ANSI colours (for a terminal); default false. */
  color?: boolean;
  /** Cells of the time axis; default 30. */
  barWidth?: number;
}

const GRPC_CODES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
];

/**
 * Jaeger notes on every server span that starts "before" its client span by
 * less than the millisecond timestamps can tell apart, and says it did nothing
 * about it: not worth a line.
 */
const NOISE = /^clock skew adjustment disabled; not applying calculated delta/;

const SERVICE_COLORS = [36, 35, 33, 34, 32];

/** The attributes shown, in this order; `peer` and `error` are built from several. */
const SHOWN = [
  'rpc.method',
  'rpc.grpc.status_code',
  'db.system.name',
  'db.system',
  'db.query.summary',
  'db.response.status_code',
] as const;
const PEER_KEYS = [
  ['server.address', 'server.port'],
  ['net.peer.name', 'net.peer.port'],
  ['network.peer.address', 'network.peer.port'],
] as const;

interface Row {
  span: JaegerSpan;
  /** Tree glyphs before the operation name. */
  prefix: string;
  orphanOf?: string;
}

export function renderTrace(trace: JaegerTrace, options: RenderOptions = {}): string[] {
  const paint = options.color
    ? (code: number | string, text: string) => (text ? `\x1b[${code}m${text}\x1b[0m` : text)
    : (_code: number | string, text: string) => text;
  const barWidth = options.barWidth ?? 30;
  const spans = trace.spans;
  if (spans.length === 0) return [`trace ${trace.traceID}: no spans`];

  const start = Math.min(...spans.map((s) => s.startTime));
  const end = Math.max(...spans.map((s) => s.startTime + s.duration));
  const total = end - start;
  const rows = treeRows(spans);
  // In waterfall order, so the caller's service always gets the first colour.
  const services = [...new Set(rows.map((row) => serviceOf(trace, row.span)))];
  const colorOf = (service: string) =>
    SERVICE_COLORS[services.indexOf(service) % SERVICE_COLORS.length] ?? 0;

  const cells = rows.map(({ span, prefix, orphanOf }) => {
    const tag = (key: string) => tagValue(span.tags, key);
    const code = tag('rpc.grpc.status_code');
    const failed = tag('otel.status_code') === 'ERROR' || tag('error') === true;
    const status =
      typeof code === 'number' ? (GRPC_CODES[code] ?? String(code)) : failed ? 'ERROR' : '-';
    return {
      span,
      service: serviceOf(trace, span),
      prefix,
      kind: String(tag('span.kind') ?? ''),
      offset: formatDuration(span.startTime - start),
      duration: formatDuration(span.duration),
      bar: bar(span.startTime - start, span.duration, total, barWidth),
      status,
      failed,
      attributes: attributesOf(span, orphanOf),
    };
  });
  const width = (pick: (c: (typeof cells)[number]) => string, header: string) =>
    Math.max(header.length, ...cells.map((c) => pick(c).length));
  const w = {
    service: width((c) => c.service, 'SERVICE'),
    span: width((c) => c.prefix + c.span.operationName, 'SPAN'),
    kind: width((c) => c.kind, 'KIND'),
    offset: width((c) => c.offset, 'START'),
    duration: width((c) => c.duration, 'DURATION'),
    status: width((c) => c.status, 'STATUS'),
  };

  const lines = [
    `trace ${trace.traceID}  ${plural(spans.length, 'span')} in ${plural(services.length, 'service')}, ${formatDuration(total)}, started ${new Date(start / 1000).toISOString()}`,
    '',
    paint(
      1,
      [
        'SERVICE'.padEnd(w.service),
        'SPAN'.padEnd(w.span),
        'KIND'.padEnd(w.kind),
        'START'.padStart(w.offset),
        'DURATION'.padStart(w.duration),
        'TIMELINE'.padEnd(barWidth + 2),
        'STATUS'.padEnd(w.status),
        'ATTRIBUTES',
      ].join('  '),
    ),
  ];
  for (const c of cells) {
    const color = colorOf(c.service);
    const statusColor = c.failed ? 31 : c.status === 'OK' ? 32 : 2;
    const line = [
      paint(color, c.service.padEnd(w.service)),
      paint(2, c.prefix) + c.span.operationName.padEnd(w.span - c.prefix.length),
      paint(2, c.kind.padEnd(w.kind)),
      c.offset.padStart(w.offset),
      c.duration.padStart(w.duration),
      `|${paint(color, c.bar)}|`,
      paint(statusColor, c.status.padEnd(w.status)),
      c.attributes
        .map(([key, value]) => paint(key === 'error' ? 31 : 2, `${key}=`) + value)
        .join(' '),
    ].join('  ');
    lines.push(line.trimEnd());
  }
  const warnings = [
    ...(trace.warnings ?? []),
    ...spans.flatMap((s) =>
      (s.warnings ?? []).filter((w) => !NOISE.test(w)).map((w) => `${s.spanID}: ${w}`),
    ),
  ];
  if (warnings.length > 0) {
    lines.push('', ...warnings.map((w) => paint(33, `warning: ${w}`)));
  }
  return lines;
}

/** Spans in waterfall order with their tree prefixes; spans whose parent is absent are roots. */
function treeRows(spans: readonly JaegerSpan[]): Row[] {
  const ids = new Set(spans.map((s) => s.spanID));
  const children = new Map<string, JaegerSpan[]>();
  const roots: { span: JaegerSpan; orphanOf?: string }[] = [];
  for (const span of spans) {
    const parent = parentOf(span);
    if (parent !== undefined && ids.has(parent) && parent !== span.spanID) {
      children.set(parent, [...(children.get(parent) ?? []), span]);
    } else {
      roots.push(parent === undefined ? { span } : { span, orphanOf: parent });
    }
  }
  // OpenTelemetry JS stamps span starts with Date.now(): steps within one
  // millisecond tie, and the one that ended first is the one that ran first.
  const byStart = (a: JaegerSpan, b: JaegerSpan) =>
    a.startTime - b.startTime ||
    a.startTime + a.duration - (b.startTime + b.duration) ||
    a.spanID.localeCompare(b.spanID);
  roots.sort((a, b) => byStart(a.span, b.span));

  const rows: Row[] = [];
  const seen = new Set<string>();
  const walk = (span: JaegerSpan, prefix: string, indent: string, orphanOf?: string) => {
    if (seen.has(span.spanID)) return;
    seen.add(span.spanID);
    rows.push(orphanOf === undefined ? { span, prefix } : { span, prefix, orphanOf });
    const kids = [...(children.get(span.spanID) ?? [])].sort(byStart);
    kids.forEach((kid, i) => {
      const last = i === kids.length - 1;
      walk(kid, `${indent}${last ? '└─ ' : '├─ '}`, `${indent}${last ? '   ' : '│  '}`);
    });
  };
  for (const root of roots) walk(root.span, '', '', root.orphanOf);
  // A reference cycle leaves spans no root reaches: show them rather than drop them.
  for (const span of [...spans].sort(byStart)) walk(span, '', '', parentOf(span));
  return rows;
}

function parentOf(span: JaegerSpan): string | undefined {
  const refs = span.references ?? [];
  return (refs.find((r) => r.refType === 'CHILD_OF') ?? refs[0])?.spanID;
}

function serviceOf(trace: JaegerTrace, span: JaegerSpan): string {
  return trace.processes[span.processID]?.serviceName ?? span.processID;
}

function tagValue(tags: readonly JaegerTag[] | undefined, key: string): unknown {
  return tags?.find((t) => t.key === key)?.value;
}

function attributesOf(span: JaegerSpan, orphanOf?: string): [string, string][] {
  const tag = (key: string) => tagValue(span.tags, key);
  const shown: [string, string][] = [];
  for (const key of SHOWN) {
    const value = tag(key);
    if (value !== undefined) shown.push([key, formatValue(value)]);
  }
  for (const [hostKey, portKey] of PEER_KEYS) {
    const host = tag(hostKey);
    if (host === undefined) continue;
    const port = tag(portKey);
    shown.push(['peer', port === undefined ? String(host) : `${host}:${port}`]);
    break;
  }
  for (const { key, value } of span.tags ?? []) {
    if (key.startsWith('shop.')) shown.push([key, formatValue(value)]);
  }
  // The span status's description, or what the gRPC client instrumentation recorded.
  const description = tag('otel.status_description') ?? tag('grpc.error_message');
  if (description !== undefined) shown.push(['error', formatValue(description)]);
  if (orphanOf !== undefined) shown.push(['parent', `${orphanOf} (not in this trace)`]);
  return shown;
}

/** Plain when unambiguous (`0`, `sqlite`), JSON-quoted otherwise (`"SELECT users"`). */
function formatValue(value: unknown): string {
  if (typeof value !== 'string') return JSON.stringify(value) ?? String(value);
  return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
}

/** `0ms`, `812µs`, `12.34ms`, `1.234s`, from microseconds. */
export function formatDuration(us: number): string {
  if (us === 0) return '0ms';
  if (us < 1000) return `${Math.round(us)}µs`;
  if (us < 1_000_000) return `${(us / 1000).toFixed(2)}ms`;
  return `${(us / 1_000_000).toFixed(3)}s`;
}

/** The span's place on the trace's time axis, to the nearest cell: at least one, never past the end. */
function bar(offset: number, duration: number, total: number, width: number): string {
  if (total <= 0) return '█'.repeat(width);
  const from = Math.min(width - 1, Math.round((offset / total) * width));
  const to = Math.max(from + 1, Math.min(width, Math.round(((offset + duration) / total) * width)));
  return ' '.repeat(from) + '█'.repeat(to - from) + ' '.repeat(width - to);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
