// HTTP/JSON at the gateway, offline (docs/gateway.md): the generated
// transcoder EnvoyFilter is what proto/ makes now, sits where every gateway
// rule applies to JSON callers as to gRPC callers, and every binding can be
// reached; the last block breaks copies to prove each check can fail. The
// same filter in a real Envoy: test/e2e/json-gateway.test.ts; through the
// lab's gateway: test/mesh/gateway.test.ts.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  transcoderFile,
  transcoderFilterName,
  transcoderYaml,
} from '../../scripts/lib/gateway-transcoder.js';
import { gatewayHttpFilterChain } from './envoy-filters.js';
import {
  bindingsOf,
  freshDescriptorSet,
  gatewayTranscoderProblems,
  httpBindingProblems,
} from './gateway-transcoder.js';
import { get, type K8sObject, list, named, overlayNames, renderOverlay } from './manifests.js';
import { istioctlValidate } from './validators.js';

let fresh: Uint8Array;
beforeAll(() => {
  fresh = freshDescriptorSet();
});

it(`${transcoderFile} is what npm run generate makes of proto/ now`, () => {
  const committed = readFileSync(join(import.meta.dirname, '../..', transcoderFile), 'utf8');
  expect(
    committed === transcoderYaml(fresh),
    `${transcoderFile} is stale: run npm run generate`,
  ).toBe(true);
});

it('binds every method the gateway lets callers reach, each binding reachable (AIP-127)', () => {
  const bindings = bindingsOf(fresh);
  expect(bindings.map((b) => `${b.verb.toUpperCase()} ${b.template} → ${b.grpcPath}`)).toEqual([
    'POST /v1/products → /shop.product.v1.ProductService/CreateProduct',
    'GET /v1/products/{id} → /shop.product.v1.ProductService/GetProduct',
    'GET /v1/products → /shop.product.v1.ProductService/ListProducts',
    'POST /v1/users → /shop.user.v1.UserService/CreateUser',
    'GET /v1/users/{id} → /shop.user.v1.UserService/GetUser',
    'GET /v1/users:batchGet → /shop.user.v1.UserService/BatchGetUsers',
    'GET /v1/users → /shop.user.v1.UserService/ListUsers',
  ]);
  expect(httpBindingProblems(bindings)).toEqual([]);
});

it('istioctl validates the transcoder EnvoyFilter (its typed_config included)', () => {
  expect(istioctlValidate(join(import.meta.dirname, '../..', transcoderFile))).toEqual([]);
});

describe.each(overlayNames())('overlay %s', (overlay) => {
  it('transcodes with proto/’s descriptors, after the subject strip, before the rate limit, jwt_authn and RBAC', () => {
    const objects = renderOverlay(overlay).objects;
    expect(gatewayTranscoderProblems(objects, fresh)).toEqual([]);
    expect(gatewayHttpFilterChain(objects).map((f) => f.name)).toEqual([
      'shop.strip-subject',
      transcoderFilterName,
      'envoy.filters.http.local_ratelimit',
      'envoy.filters.http.jwt_authn',
      'shop.subject-rate-limit',
      'envoy.filters.http.rbac',
      'envoy.filters.http.grpc_stats',
      'envoy.filters.http.fault',
      'envoy.filters.http.cors',
      'envoy.filters.http.router',
    ]);
  });
});

describe('the transcoder checks', () => {
  const transcoder = (objects: K8sObject[]) =>
    list(named(objects, 'EnvoyFilter', 'shop-gateway-transcoder'), 'spec', 'configPatches')[0];
  const edited = (edit: (copy: K8sObject[]) => void) => {
    const copy = structuredClone(renderOverlay('production').objects);
    edit(copy);
    return gatewayTranscoderProblems(copy, fresh).join('\n');
  };

  it('catch a stale descriptor set and a service left out', () => {
    const problems = edited((c) => {
      const config = get(transcoder(c), 'patch', 'value', 'typed_config') as Record<
        string,
        unknown
      >;
      config.proto_descriptor_bin = Buffer.from('stale').toString('base64');
      config.services = ['shop.user.v1.UserService'];
    });
    expect(problems).toContain('not what proto/ builds');
    expect(problems).toContain('transcodes shop.user.v1.UserService, not');
  });

  it('catch a transcoder behind the rate limit, where the buckets see /v1/ paths', () => {
    const problems = edited((c) => {
      (get(transcoder(c), 'patch') as Record<string, unknown>).operation = 'INSERT_AFTER';
    });
    expect(problems).toContain('is not between the subject strip and the rate limit');
  });

  it('catch a transcoder that no longer finds its place (the rate limit gone)', () => {
    const problems = edited((c) => {
      const filter = named(c, 'EnvoyFilter', 'shop-gateway').spec as Record<string, unknown>;
      filter.configPatches = list(filter, 'configPatches').filter(
        (p) => get(p, 'patch', 'value', 'name') !== 'envoy.filters.http.local_ratelimit',
      );
    });
    expect(problems).toBe('0 transcoders on the gateway, not 1');
  });

  it('catch a transcoder setting Envoy does not know (istioctl validate)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shop-transcoder-'));
    try {
      const file = join(dir, 'transcoder.yaml');
      writeFileSync(
        file,
        transcoderYaml(fresh).replace('convert_grpc_status:', 'convert_grpc_statuses:'),
      );
      expect(istioctlValidate(file).join('\n')).toContain('unknown field "convert_grpc_statuses"');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('catch a binding to no field, a create without the whole body, a public method unbound', () => {
    const bindings = bindingsOf(fresh);
    const create = bindings.find((b) => b.grpcPath.endsWith('/CreateUser'));
    const get_ = bindings.find((b) => b.grpcPath.endsWith('/GetProduct'));
    if (!create || !get_) throw new Error('no CreateUser or GetProduct binding');
    const problems = httpBindingProblems([
      { ...create, body: 'username' },
      { ...get_, template: '/v1/products/{product_id}' },
      { ...get_, template: '/v1/products/{product_id}' },
    ]).join('\n');
    expect(problems).toContain('a create takes the request as its body');
    expect(problems).toContain('{product_id} is no field of shop.product.v1.GetProductRequest');
    expect(problems).toContain('a second binding for get /v1/products/{product_id}');
    expect(problems).toContain(
      'ListProducts is reachable through the gateway but has no HTTP binding',
    );
  });
});
