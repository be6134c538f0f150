/** One configuration of the services' telemetry, each run on fresh processes. */
export interface BenchVariant {
  name: string;
  /** Export spans to a live Jaeger (started for the variant, on the load generator's core). */
  jaeger: boolean;
  env: Record<string, string>;
  /**
   * Both services on a PostgreSQL server of their own (a private cluster
   * with fsync on, on the load generator's cores, as a peer outside the
   * services), each with its own database, instead of SQLite.
   */
  postgres?: true;
  /**
   * Each service in a memory cgroup with its pod's limit (scripts/lib/pod-memory-limit.ts),
   * as the kubelet runs a container: Node sizes its heap from that limit.
   */
  podMemoryLimit?: true;
  /** Runs only when named in --variants: a comparison, not part of every report. */
  onRequest?: true;
}

/**
 * Telemetry as deployed (preload on, Prometheus metrics on) with span export
 * off, then exporting every span or one trace in ten to a live collector, and
 * with the SDK disabled altogether: what telemetry itself costs.
 */
export const benchVariants: readonly BenchVariant[] = [
  { name: 'export off', jaeger: false, env: {} },
  {
    name: 'jaeger 100%',
    jaeger: true,
    env: { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '1' },
  },
  {
    name: 'jaeger 10%',
    jaeger: true,
    env: { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' },
  },
  { name: 'sdk disabled', jaeger: false, env: { OTEL_SDK_DISABLED: 'true' } },
  // ProductService as it was before the owner read model (issue 11): every
  // page asks UserService for its owners (one BatchGetUsers), against
  // `export off`, where pages read owners from ProductService's own table.
  {
    name: 'owners per page',
    jaeger: false,
    env: { USER_EVENTS_TRANSPORT: 'none' },
    onRequest: true,
  },
  // `export off` on PostgreSQL: what a commit costs there (CreateUser).
  { name: 'postgres', jaeger: false, env: {}, postgres: true, onRequest: true },
  // `export off` under the pods' memory limit: the memory a pod would see.
  { name: 'pod memory limit', jaeger: false, env: {}, podMemoryLimit: true, onRequest: true },
];
