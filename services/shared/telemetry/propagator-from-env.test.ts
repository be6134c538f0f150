import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { propagatorFromEnv } from './propagator-from-env.js';

const traceId = '0af7651916cd43dd8448eb211c80319c';
const spanId = 'b7ad6b7169203331';
const parent = trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId, traceFlags: 1 });

const injected = (value: string | undefined) => {
  const carrier: Record<string, string> = {};
  propagatorFromEnv(value)?.inject(parent, carrier, {
    set: (c, key, v) => {
      c[key] = v;
    },
  });
  return carrier;
};

describe('propagatorFromEnv', () => {
  it('defaults to W3C trace context and baggage, as the spec says', () => {
    expect(injected(undefined)).toEqual({ traceparent: `00-${traceId}-${spanId}-01` });
    expect(injected(' ')).toEqual(injected(undefined));
  });

  it('adds B3 in one header or several, and none turns propagation off', () => {
    expect(injected('tracecontext,b3')).toMatchObject({ b3: `${traceId}-${spanId}-1` });
    expect(injected('b3multi')).toEqual({
      'x-b3-traceid': traceId,
      'x-b3-spanid': spanId,
      'x-b3-sampled': '1',
    });
    expect(propagatorFromEnv('tracecontext,none')).toBeNull();
  });

  it('skips a name it does not know instead of failing', () => {
    expect(injected('xray, tracecontext')).toEqual({ traceparent: `00-${traceId}-${spanId}-01` });
  });
});
