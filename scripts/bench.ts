// `npm run bench`: the services under load beside a bare grpc-js server on
// the same proto (the baseline), each RPC run against the baseline and then
// against the services, pinned apart from the load generator (ghz), and a
// table of throughput, latency, CPU time per call, memory and spans per RPC
// with the ratio of each to the baseline run just before it. See
// docs/performance.md for how to run and read it. Options (after
// `npm run bench --`):
//   --duration 5s          per measured run (default 5s)
//   --warmup 1s            unmeasured run before each (default 1s)
//   --concurrency 50       calls in flight over one connection (default 50)
//   --variants a,b         only these (default: export off, jaeger 100%,
//                          jaeger 10%, sdk disabled; on request only:
//                          owners per page, ProductService without its
//                          owner read model; postgres, both services on
//                          PostgreSQL with fsync on; pod memory limit,
//                          each service in a cgroup with its pod's limit)
//   --rpcs a,b             only these rows (e.g. GetUser,CreateUser)
//   --json FILE            also write the report as JSON
//   --compare FILE         print the change against an earlier --json report
//   --profile DIR          run the services under a CPU profiler (profiles
//                          in DIR) and print each one's time by layer
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type BenchReport, formatReport } from './bench/bench-report.js';
import { compareReports } from './bench/compare-reports.js';
import { runBench } from './bench/run-bench.js';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '5s' },
    warmup: { type: 'string', default: '1s' },
    concurrency: { type: 'string', default: '50' },
    variants: { type: 'string' },
    rpcs: { type: 'string' },
    json: { type: 'string' },
    compare: { type: 'string' },
    profile: { type: 'string' },
  },
});
const list = (value: string | undefined) => value?.split(',').map((s) => s.trim());
// Read first: a wrong path should fail before minutes of load, not after.
const previous = args.compare
  ? (JSON.parse(readFileSync(args.compare, 'utf8')) as BenchReport)
  : undefined;

const report = await runBench({
  duration: args.duration,
  warmup: args.warmup,
  concurrency: Number(args.concurrency),
  variants: list(args.variants),
  rpcs: list(args.rpcs),
  profileDir: args.profile,
  progress: (line) => console.error(`bench: ${line}`),
});
console.log(`\n${formatReport(report)}`);
if (args.json) writeFileSync(args.json, `${JSON.stringify(report, null, 2)}\n`);
if (previous) console.log(`\n${compareReports(previous, report)}`);
