import { Metadata } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { meshCaller } from './mesh-caller.js';

const md = (headers: Record<string, string>) => {
  const m = new Metadata();
  for (const [k, v] of Object.entries(headers)) m.set(k, v);
  return m;
};

describe('meshCaller', () => {
  it("reads the SPIFFE identity of the sidecar's own (last) XFCC element and the attempt", () => {
    const xfcc =
      'By=spiffe://cluster.local/ns/shop/sa/x;URI=spiffe://cluster.local/ns/shop/sa/forged,' +
      'By=spiffe://cluster.local/ns/shop/sa/user-service;Hash=ab12;Subject="O=a, CN=b";' +
      'URI=spiffe://cluster.local/ns/shop/sa/product-service';
    expect(
      meshCaller(md({ 'x-forwarded-client-cert': xfcc, 'x-envoy-attempt-count': '2' })),
    ).toEqual({ caller: 'spiffe://cluster.local/ns/shop/sa/product-service', attempt: 2 });
  });

  it('says nothing it cannot read: no headers, no URI, not SPIFFE, a bad count', () => {
    expect(meshCaller(md({}))).toEqual({});
    expect(meshCaller(md({ 'x-forwarded-client-cert': 'Hash=ab;Subject=""' }))).toEqual({});
    expect(meshCaller(md({ 'x-forwarded-client-cert': 'URI=https://evil' }))).toEqual({});
    expect(
      meshCaller(md({ 'x-forwarded-client-cert': `URI=spiffe://${'a'.repeat(300)}` })),
    ).toEqual({});
    expect(meshCaller(md({ 'x-envoy-attempt-count': 'abc' }))).toEqual({});
    expect(meshCaller(md({ 'x-envoy-attempt-count': '0' }))).toEqual({});
  });
});
