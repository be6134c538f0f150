/** One configuration of the services' telemetry, each run on fresh processes. */
export interface BenchVariant {
  name: string;
  /** Export spans to a live Jaeger (started for the variant, on the load generator's core). */
  jaeger: boolean;
  env: Record<string, string>;
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
];
