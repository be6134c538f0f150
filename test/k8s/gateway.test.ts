// The ingress gateway as the API gateway (docs/gateway.md), on every overlay;
// the last block breaks a copy to prove each check can fail. The same rules
// observed on the real gateway: test/mesh/gateway.test.ts.
import { describe, expect, it } from 'vitest';
import {
  gatewayAccessLogProblems,
  gatewayAuthenticationProblems,
  gatewayAuthorizationProblems,
  gatewayLocalReplyProblems,
  gatewayRateLimitProblems,
  gatewaySubjectRateLimitProblems,
} from './gateway.js';
import { get, type K8sObject, list, named, overlayNames, renderOverlay } from './manifests.js';
import { installedMeshConfig } from './tools.js';

describe.each(overlayNames())('overlay %s', (overlay) => {
  const objects = () => renderOverlay(overlay).objects;

  it('opens sign-up and the product reads to all, CreateProduct to a valid token only', () => {
    expect(gatewayAuthorizationProblems(objects())).toEqual([]);
  });

  it('verifies tokens of its own issuer, passes on only their subject, and only the lab trusts the lab key', () => {
    expect(gatewayAuthenticationProblems(objects(), overlay)).toEqual([]);
  });

  it('rate-limits every route, sign-up strictest, answering RESOURCE_EXHAUSTED with retry-after', () => {
    expect(gatewayRateLimitProblems(objects())).toEqual([]);
  });

  it('limits CreateProduct per signed-in user too, by the verified subject, below the shared bucket', () => {
    expect(gatewaySubjectRateLimitProblems(objects())).toEqual([]);
  });

  it("answers a JSON caller's local replies as a JSON google.rpc.Status, a gRPC caller's as grpc-message", () => {
    expect(gatewayLocalReplyProblems(objects())).toEqual([]);
  });

  it('logs every gateway call as JSON with the SRE fields, through a provider its mesh config defines', () => {
    expect(gatewayAccessLogProblems(objects(), installedMeshConfig(overlay))).toEqual([]);
  });
});

it('defines the access log provider alike in every install file (istioctl replaces lists)', () => {
  const provider = (overlay?: string) =>
    list(installedMeshConfig(overlay), 'extensionProviders').find(
      (p) => get(p, 'name') === 'gateway-json',
    );
  expect(provider('production')).toEqual(provider());
});

describe('the gateway checks', () => {
  const edited = (overlay: string, edit: (copy: K8sObject[]) => void) => {
    const copy = structuredClone(renderOverlay(overlay).objects);
    edit(copy);
    return copy;
  };
  const limitConfig = (c: K8sObject[]) =>
    get(
      list(named(c, 'EnvoyFilter', 'shop-gateway'), 'spec', 'configPatches')[0],
      'patch',
      'value',
      'typed_config',
    ) as Record<string, unknown>;

  it('catch a method made public, and CreateProduct without a token', () => {
    const copy = edited('local', (c) => {
      const rules = list(named(c, 'AuthorizationPolicy', 'shop-gateway'), 'spec', 'rules');
      delete (rules[1] as Record<string, unknown>).from;
    });
    expect(gatewayAuthorizationProblems(copy).join('\n')).toContain('public without a token');
  });

  it('catch the lab key trusted outside the lab, and a token forwarded', () => {
    const lab = named(renderOverlay('lab').objects, 'RequestAuthentication', 'shop-gateway');
    const copy = edited('production', (c) => {
      const rule = list(named(c, 'RequestAuthentication', 'shop-gateway'), 'spec', 'jwtRules')[0];
      Object.assign(rule as object, list(lab, 'spec', 'jwtRules')[0], {
        forwardOriginalToken: true,
      });
    });
    const problems = gatewayAuthenticationProblems(copy, 'production').join('\n');
    expect(problems).toContain("names the lab's issuer");
    expect(problems).toContain("trusts the lab's published key");
    expect(problems).toContain('forwards the token');
  });

  it('catch UNAVAILABLE for a limited call, no default bucket, and sign-up as loose as reads', () => {
    const copy = edited('production', (c) => {
      const config = limitConfig(c);
      config.rate_limited_as_resource_exhausted = false;
      const descriptor = list(config, 'descriptors')[0] as Record<string, unknown>;
      descriptor.token_bucket = { max_tokens: 1000, tokens_per_fill: 1000, fill_interval: '0.1s' };
    });
    const problems = gatewayRateLimitProblems(copy).join('\n');
    expect(problems).toContain('UNAVAILABLE');
    expect(problems).toContain('not stricter');
    const unlimited = edited('production', (c) => {
      delete limitConfig(c).token_bucket;
    });
    expect(gatewayRateLimitProblems(unlimited).join('\n')).toContain('some routes are not limited');
  });

  it('catch a gateway that lets the client’s subject header through', () => {
    const copy = edited('production', (c) => {
      const filter = named(c, 'EnvoyFilter', 'shop-gateway').spec as Record<string, unknown>;
      filter.configPatches = list(filter, 'configPatches').filter(
        (p) => get(p, 'patch', 'value', 'name') !== 'shop.strip-subject',
      );
    });
    expect(gatewayRateLimitProblems(copy)).toEqual([
      "x-shop-subject is not removed by the gateway's first filter",
    ]);
  });

  it('catch a per-user limit before jwt_authn, one bucket for all users, and a default bucket', () => {
    const copy = edited('production', (c) => {
      const patch = list(
        named(c, 'EnvoyFilter', 'shop-gateway-subject-limit'),
        'spec',
        'configPatches',
      )[0] as Record<string, Record<string, unknown>>;
      (patch.patch as Record<string, unknown>).operation = 'INSERT_FIRST';
      const config = get(patch, 'patch', 'value', 'typed_config') as Record<string, unknown>;
      const entries = list(list(config, 'descriptors')[0], 'entries') as Record<string, string>[];
      (entries[1] as Record<string, string>).value = 'someone';
      config.token_bucket = { max_tokens: 10, tokens_per_fill: 1, fill_interval: '1s' };
    });
    const problems = gatewaySubjectRateLimitProblems(copy).join('\n');
    expect(problems).toContain('between jwt_authn and RBAC');
    expect(problems).toContain('not per x-shop-subject value');
    expect(problems).toContain('limit anonymous calls too');
  });

  it('catch a JSON reply for gRPC callers too, a wrong code, and a status left as text', () => {
    const copy = edited('production', (c) => {
      const patch = list(named(c, 'EnvoyFilter', 'shop-gateway'), 'spec', 'configPatches').find(
        (p) => get(p, 'applyTo') === 'NETWORK_FILTER',
      );
      const typed = get(patch, 'patch', 'value', 'typed_config');
      const mappers = list(typed, 'local_reply_config', 'mappers');
      const jsonFor = (status: number) =>
        mappers.find(
          (m) =>
            get(m, 'body_format_override') !== undefined &&
            get(
              m,
              'filter',
              'and_filter',
              'filters',
              0,
              'status_code_filter',
              'comparison',
              'value',
              'default_value',
            ) === status,
        );
      // RBAC's JSON mapper without its JSON-caller condition.
      list(jsonFor(403), 'filter', 'and_filter', 'filters').splice(1);
      Object.assign(get(jsonFor(429), 'body_format_override', 'json_format') as object, {
        code: 14,
      });
      mappers.splice(mappers.indexOf(jsonFor(413)), 1);
    });
    const problems = gatewayLocalReplyProblems(copy).join('\n');
    expect(problems).toContain('writes JSON for gRPC callers too');
    expect(problems).toContain("a JSON caller's 429 has code 14, not 8");
    expect(problems).toContain("a JSON caller's 413 is not JSON");
  });

  it('catch an access log that writes the Authorization header', () => {
    const meshConfig = structuredClone(installedMeshConfig()) as Record<string, unknown>;
    const provider = list(meshConfig, 'extensionProviders').find(
      (p) => get(p, 'name') === 'gateway-json',
    );
    const fields = get(provider, 'envoyFileAccessLog', 'logFormat', 'labels') as Record<
      string,
      string
    >;
    fields.token = '%REQ(AUTHORIZATION)%';
    expect(gatewayAccessLogProblems(renderOverlay('local').objects, meshConfig)).toEqual([
      'access log provider gateway-json: token logs %REQ(AUTHORIZATION)%',
    ]);
  });
});
