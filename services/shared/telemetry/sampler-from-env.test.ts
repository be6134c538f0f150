import { ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { SamplingDecision } from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';
import { samplerFromEnv } from './sampler-from-env.js';

const decide = (name: string, arg?: string, traceId = 'ffffffffffffffffffffffffffffffff') =>
  samplerFromEnv(name, arg).shouldSample(ROOT_CONTEXT, traceId, 'span', SpanKind.SERVER, {}, [])
    .decision;
const sampledParent = trace.setSpanContext(ROOT_CONTEXT, {
  traceId: '0af7651916cd43dd8448eb211c80319c',
  spanId: 'b7ad6b7169203331',
  traceFlags: 1,
});

describe('samplerFromEnv', () => {
  it('reads the spec names, with OTEL_TRACES_SAMPLER_ARG as the ratio', () => {
    expect(decide('always_on')).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(decide('always_off')).toBe(SamplingDecision.NOT_RECORD);
    expect(decide('traceidratio', '0')).toBe(SamplingDecision.NOT_RECORD);
    expect(decide('parentbased_traceidratio', '0')).toBe(SamplingDecision.NOT_RECORD);
    expect(decide('parentbased_always_off')).toBe(SamplingDecision.NOT_RECORD);
  });

  it('follows a sampled parent in the parent-based samplers', () => {
    const sampler = samplerFromEnv('parentbased_traceidratio', '0');
    expect(sampler.shouldSample(sampledParent, 'x', 'span', SpanKind.SERVER, {}, []).decision).toBe(
      SamplingDecision.RECORD_AND_SAMPLED,
    );
  });

  it('falls back to ratio 1 and to parentbased_always_on on bad values', () => {
    expect(decide('traceidratio', '2')).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(decide('sometimes')).toBe(SamplingDecision.RECORD_AND_SAMPLED);
  });
});
