import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileDescriptorSet } from '../../services/gen/descriptor_set.pb.js';
import { repo } from '../lib/child-process.js';
import { type Jaeger, startJaeger } from '../lib/jaeger.js';
import { POD_MEMORY_LIMIT_BYTES } from '../lib/pod-memory-limit.js';
import { type PostgresServer, startPostgres } from '../lib/postgres-server.js';
import { type Services, spawnServices } from '../lib/spawn-services.js';
import { writeBaselineFixtures } from './baseline-fixtures.js';
import type { BenchProfile, BenchReport, BenchRow, BenchVariantSetup } from './bench-report.js';
import { type BenchScenario, benchScenarios } from './bench-scenarios.js';
import { type BenchVariant, benchVariants } from './bench-variants.js';
import { cpuPlan, pinProcess } from './cpu-plan.js';
import { type BenchTarget, measureRun, type RunSettings } from './measure-run.js';
import { measureStartup, type StartupFigure } from './measure-startup.js';
import { profileLayers } from './profile-layers.js';
import { seedServices } from './seed-services.js';
import {
  type Baseline,
  compileBenchProcesses,
  cpuProfilerPreload,
  startBaseline,
} from './start-baseline.js';

export interface BenchOptions {
  /** Per measured run, as ghz takes it (default `5s`). */
  duration?: string;
  /** An unmeasured run before each measured one, so JIT and caches are warm (default `1s`; `0s` for none). */
  warmup?: string;
  /** Calls in flight over the one connection (default 50). */
  concurrency?: number;
  /** Variant names to run (default: every one of benchVariants not run on request only). */
  variants?: readonly string[];
  /** Row names to run (default: all of benchScenarios). */
  rpcs?: readonly string[];
  /** Users seeded per variant (default 100; 10 is enough for a page of 50). */
  owners?: number;
  /** Starts timed per service and telemetry setting (default 3; 0 for none). */
  startupRuns?: number;
  /** Build dist/ and the Go tools first (default true; the test setup has done it). */
  prepare?: boolean;
  /**
   * Run the services under a CPU profiler (cpu-profiler.ts), writing
   * profiles here (one folder per variant), and add each one's split by
   * layer to the report. Profiling slows the services: compare such runs
   * only with each other.
   */
  profileDir?: string;
  /** Progress lines (default: none). */
  progress?: (line: string) => void;
}

/**
 * Runs the whole benchmark and returns its report: start-up times, then,
 * variant by variant, fresh services (seeded the same way) under load. Each
 * RPC with a baseline runs against the bare baseline right before it runs
 * against the services, so each pair shares the machine's state of the
 * moment (it is shared and noisy), and its ratios come from that pair.
 */
export async function runBench(options: BenchOptions = {}): Promise<BenchReport> {
  const progress = options.progress ?? (() => {});
  const variants = benchVariants.filter((v) =>
    options.variants ? options.variants.includes(v.name) : !v.onRequest,
  );
  if (variants.length === 0) throw new Error(`no such variant: ${options.variants?.join(', ')}`);
  const wanted = (s: BenchScenario) => !options.rpcs || options.rpcs.includes(s.rpc);

  if (options.prepare !== false) {
    const tools = ['ghz', ...(variants.some((v) => v.jaeger) ? ['jaeger'] : [])];
    execFileSync(join(repo, 'scripts/install-tools.sh'), tools, { stdio: 'inherit' });
    execFileSync(
      process.execPath,
      [join(repo, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
      { cwd: repo, stdio: 'inherit' },
    );
  }
  compileBenchProcesses();
  const work = mkdtempSync(join(tmpdir(), 'shop-bench-'));
  const protoset = join(work, 'protoset.bin');
  writeFileSync(protoset, fileDescriptorSet);
  const plan = cpuPlan();
  // The bench itself reads and parses every line the services write (an
  // access line per call, thousands a second): on the servers' core that
  // work would take CPU from the services, which the baseline (it logs
  // nothing) never loses. Children inherit it until pinned themselves.
  if (plan) pinProcess(process.pid, plan.load);
  const settings = {
    protoset,
    duration: options.duration ?? '5s',
    warmup: options.warmup ?? '1s',
    concurrency: options.concurrency ?? 50,
    loadCpus: plan?.load,
  };
  const started = new Date().toISOString();
  const loadBefore = loadavg()[0] ?? Number.NaN;

  const startup: StartupFigure[] = [];
  const startupRuns = options.startupRuns ?? 3;
  for (const service of startupRuns > 0 ? (['user', 'product'] as const) : []) {
    for (const telemetry of ['on', 'off'] as const) {
      progress(`start-up: ${service}, telemetry ${telemetry}`);
      startup.push(await measureStartup(service, telemetry, startupRuns));
    }
  }

  const rows: BenchRow[] = [];
  const setups: BenchVariantSetup[] = [];
  const profiles: BenchProfile[] = [];
  let baseline: Baseline | undefined;

  async function runVariant(variant: BenchVariant) {
    progress(`variant ${variant.name}: starting`);
    let jaeger: Jaeger | undefined;
    let postgres: PostgresServer | undefined;
    let services: Services | undefined;
    const profileDir = options.profileDir
      ? join(resolve(options.profileDir), variant.name.replace(/\W+/g, '-'))
      : undefined;
    if (profileDir) mkdirSync(profileDir, { recursive: true });
    try {
      jaeger = variant.jaeger ? await startJaeger() : undefined;
      if (jaeger && plan) pinProcess(jaeger.child.pid, plan.load);
      postgres = variant.postgres ? await startPostgres({ durable: true }) : undefined;
      if (postgres?.pid && plan) pinProcess(postgres.pid, plan.load);
      const databases = postgres
        ? {
            user: { DATABASE_URL: (await postgres.createDatabase('bench_users')).url },
            product: { DATABASE_URL: (await postgres.createDatabase('bench_products')).url },
          }
        : {};
      services = await spawnServices({
        ...databases,
        ...(variant.podMemoryLimit ? { memoryLimitBytes: POD_MEMORY_LIMIT_BYTES } : {}),
        env: {
          ...variant.env,
          ...(jaeger ? { OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpEndpoint } : {}),
          ...(profileDir
            ? { NODE_OPTIONS: `--import=${cpuProfilerPreload}`, PROFILE_DIR: profileDir }
            : {}),
        },
      });
      const dialectOf = (service: Services['user']) =>
        String(service.logs.find((l) => l.msg === 'schema up to date')?.dialect);
      setups.push({
        variant: variant.name,
        dialect: { user: dialectOf(services.user), product: dialectOf(services.product) },
        ...(services.user.memoryCgroup ? { memoryLimitBytes: POD_MEMORY_LIMIT_BYTES } : {}),
      });
      const seed = await seedServices(services, options.owners);
      if (plan) {
        pinProcess(services.user.pid, plan.server);
        pinProcess(services.product.pid, plan.server);
      }
      if (!baseline) {
        // Started once, answering with what the first services answered.
        const fixtures = join(work, 'fixtures.json');
        writeBaselineFixtures(fixtures, seed.fixtures);
        baseline = await startBaseline(fixtures, plan?.server);
      }
      const base: BenchTarget = {
        name: 'baseline',
        address: { user: baseline.address, product: baseline.address },
        pids: { baseline: baseline.child.pid },
        metricsUrls: [],
      };
      const ours: BenchTarget = {
        name: 'services',
        address: { user: services.user.address, product: services.product.address },
        pids: { user: services.user.pid, product: services.product.pid },
        metricsUrls: jaeger ? [services.user.metricsUrl, services.product.metricsUrl] : [],
      };
      const pairs = new Map<string, BenchRow>();
      for (const scenario of benchScenarios(seed).filter(wanted)) {
        let run: RunSettings = { ...settings, variant: variant.name };
        if (scenario.halfRateOf) {
          const saturated = pairs.get(scenario.halfRateOf);
          if (!saturated) continue;
          run = { ...run, rate: saturated.callsPerSecond / 2 };
        }
        let paired: BenchRow | undefined;
        if (scenario.baseline) {
          progress(`${scenario.rpc}: baseline (${variant.name})`);
          paired = await measureRun(base, scenario, run);
          pairs.set(scenario.rpc, paired);
          rows.push(paired);
        }
        progress(`${scenario.rpc}: ${variant.name}`);
        const row = await measureRun(ours, scenario, run);
        if (paired) {
          row.ratio = {
            callsPerSecond: row.callsPerSecond / paired.callsPerSecond,
            cpuPerCall: row.cpuUsPerCall / paired.cpuUsPerCall,
            p99: row.p99Ms / paired.p99Ms,
          };
        }
        rows.push(row);
      }
    } finally {
      await services?.stop();
      await jaeger?.stop();
      await postgres?.close();
    }
    if (profileDir && services) {
      // Written at exit by cpu-profiler.ts as CPU.<pid>.cpuprofile.
      for (const [service, pid] of [
        ['user', services.user.pid],
        ['product', services.product.pid],
      ] as const) {
        const path = join(profileDir, `CPU.${pid}.cpuprofile`);
        if (!readdirSync(profileDir).includes(`CPU.${pid}.cpuprofile`)) continue;
        profiles.push({ variant: variant.name, service, path, layers: profileLayers(path) });
      }
    }
  }

  try {
    for (const variant of variants) await runVariant(variant);
  } finally {
    await baseline?.child.stop();
    rmSync(work, { recursive: true, force: true });
  }
  return {
    started,
    node: process.version,
    cpus: availableParallelism(),
    loadAverage: { before: loadBefore, after: loadavg()[0] ?? Number.NaN },
    ...(plan ? { pinned: plan } : {}),
    duration: settings.duration,
    concurrency: settings.concurrency,
    startup,
    variants: setups,
    rows,
    ...(profiles.length ? { profiles } : {}),
  };
}
