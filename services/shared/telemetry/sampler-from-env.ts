import { diag } from '@opentelemetry/api';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  type Sampler,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace';

/**
 * The root sampler OTEL_TRACES_SAMPLER names, with OTEL_TRACES_SAMPLER_ARG as
 * the ratio of the ratio samplers, as the spec (and the NodeSDK this
 * replaces) reads them. A bad ratio or an unknown name is logged and falls
 * back to the spec's default, parentbased_always_on.
 */
export function samplerFromEnv(name: string, arg: string | undefined): Sampler {
  const ratio = () => {
    const value = Number(arg);
    if (arg?.trim() && Number.isFinite(value) && value >= 0 && value <= 1) return value;
    diag.error(`OTEL_TRACES_SAMPLER_ARG=${arg ?? ''} is not a ratio from 0 to 1; using 1`);
    return 1;
  };
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio());
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio()) });
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    default:
      diag.error(`OTEL_TRACES_SAMPLER: unknown sampler "${name}"; using parentbased_always_on`);
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}
