// `npm run trace`: draws a trace from Jaeger's query API as a waterfall in the
// terminal, one line per span (see scripts/trace/render.ts).
//
//   npm run trace -- <trace id>              the trace_id of an "rpc" log line
//   npm run trace -- --last <service>        the newest trace with a span of <service>
//     [--operation <span name>]              ... and of this operation
//   [--jaeger-url URL]                       default $JAEGER_QUERY_URL, else
//                                            http://localhost:16686 (`npm start -- --jaeger`)
//
// Colours only when stdout is a terminal and NO_COLOR is unset. Exit code: 0
// drawn, 1 Jaeger unreachable or no such trace, 2 bad usage.
import { parseArgs } from 'node:util';
import { lookupTrace, TraceLookupError } from './trace/lookup.js';
import { renderTrace } from './trace/render.js';

const usage = `usage: npm run trace -- <trace id>
       npm run trace -- --last <service> [--operation <span name>]
options: --jaeger-url URL (default $JAEGER_QUERY_URL or http://localhost:16686)`;

function fail(message: string, code: number): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

let parsed: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    allowPositionals: true,
    options: {
      last: { type: 'string' },
      operation: { type: 'string' },
      'jaeger-url': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
try {
  parsed = parse();
} catch (error) {
  fail(`${(error as Error).message}\n${usage}`, 2);
}
const { values: args, positionals } = parsed;
if (args.help) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}

const baseUrl = args['jaeger-url'] || process.env.JAEGER_QUERY_URL || 'http://localhost:16686';
const [traceId, ...extra] = positionals;
if (extra.length > 0 || (traceId === undefined) === (args.last === undefined)) {
  fail(`give either a trace id or --last <service>\n${usage}`, 2);
}
if (traceId !== undefined && !/^[0-9a-f]{1,32}$/i.test(traceId)) {
  fail(`not a trace id (up to 32 hex digits): ${traceId}`, 2);
}
if (args.operation !== undefined && args.last === undefined) {
  fail(`--operation only goes with --last\n${usage}`, 2);
}

try {
  const trace = await lookupTrace(
    baseUrl,
    traceId !== undefined
      ? { traceId: traceId.toLowerCase() }
      : { service: args.last ?? '', ...(args.operation ? { operation: args.operation } : {}) },
  );
  const color = process.stdout.isTTY === true && process.env.NO_COLOR === undefined;
  process.stdout.write(`${renderTrace(trace, { color }).join('\n')}\n`);
} catch (error) {
  if (error instanceof TraceLookupError) fail(error.message, 1);
  throw error;
}
