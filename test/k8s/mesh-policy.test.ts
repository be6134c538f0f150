// What no validator checks: the manifests against the protos and the
// services' own configuration. Each check runs on every overlay, and the
// last block breaks a copy to prove each check can fail.
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  allowedPaths,
  authorizationPathProblems,
  authorizationTargetProblems,
  destinationProblems,
  gatewayProblems,
  podSecurityProblems,
  portProblems,
  retryProblems,
  routeCoverageProblems,
  rpcs,
  shutdownProblems,
  userMethodsProductCalls,
  weightProblems,
  workloadProblems,
} from './checks.js';
import {
  get,
  isObject,
  type K8sObject,
  list,
  named,
  ofKind,
  overlayNames,
  type Rendered,
  renderOverlay,
  text,
} from './manifests.js';
import { istioInstall } from './tools.js';

const gatewayPrincipal = 'cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account';

describe.each(overlayNames())('overlay %s', (overlay) => {
  let rendered: Rendered;
  let objects: K8sObject[];

  beforeAll(() => {
    rendered = renderOverlay(overlay);
    objects = rendered.objects;
  });

  it('authorizes only real RPCs, on workloads and for identities that exist', () => {
    expect(authorizationPathProblems(objects)).toEqual([]);
    expect(authorizationTargetProblems(objects, istioInstall().objects)).toEqual([]);
  });

  it('denies by default', () => {
    const allowNothing = ofKind(objects, 'AuthorizationPolicy').filter(
      (p) =>
        p.metadata.namespace === 'shop' && isObject(p.spec) && Object.keys(p.spec).length === 0,
    );
    expect(allowNothing).toHaveLength(1);
    expect(text(named(objects, 'PeerAuthentication', 'default'), 'spec', 'mtls', 'mode')).toBe(
      'STRICT',
    );
  });

  it('lets ProductService call exactly the UserService methods its code uses', () => {
    const needed = userMethodsProductCalls();
    expect(needed.length).toBeGreaterThan(0);
    const allowed = allowedPaths(
      objects,
      'user-service',
      'cluster.local/ns/shop/sa/product-service',
    );
    expect([...allowed].sort()).toEqual([...needed].sort());
  });

  it('lets the ingress gateway reach the public methods, and never a bulk read of users', () => {
    const product = allowedPaths(objects, 'product-service', gatewayPrincipal);
    const productRpcs = rpcs().filter((r) => r.service === 'shop.product.v1.ProductService');
    expect([...product].sort()).toEqual(productRpcs.map((r) => r.path).sort());
    const user = allowedPaths(objects, 'user-service', gatewayPrincipal);
    expect(user.size).toBeGreaterThan(0);
    expect(user).not.toContain('/shop.user.v1.UserService/ListUsers');
    expect(user).not.toContain('/shop.user.v1.UserService/BatchGetUsers');
  });

  it('retries only methods the protos mark safe, and routes every RPC with a timeout', () => {
    expect(retryProblems(objects)).toEqual([]);
    expect(routeCoverageProblems(objects)).toEqual([]);
  });

  it('routes to Services, ports and subsets that exist and select Deployments that exist', () => {
    expect(destinationProblems(objects)).toEqual([]);
  });

  it('splits ProductService by weights that add up to 100', () => {
    expect(weightProblems(objects)).toEqual([]);
    const routes = list(named(objects, 'VirtualService', 'product-service-routes'), 'spec', 'http');
    expect(routes.some((r) => list(r, 'route').length === 2)).toBe(true);
  });

  it('binds the Gateway to the ingress gateway mesh/istio-install.yaml installs, on its ports', () => {
    expect(gatewayProblems(objects, istioInstall().objects)).toEqual([]);
  });

  it('sends `x-canary: true` to the canary subset', () => {
    const routes = list(named(objects, 'VirtualService', 'product-service-routes'), 'spec', 'http');
    const first = routes[0];
    expect(get(first, 'match', 0, 'headers', 'x-canary', 'exact')).toBe('true');
    expect(list(first, 'route').map((r) => text(r, 'destination', 'subset'))).toEqual(['canary']);
  });

  it('uses the services’ ports everywhere (config.ts defaults)', () => {
    expect(portProblems(objects)).toEqual([]);
  });

  it('fits the services’ graceful shutdown inside the sidecar drain and the grace period', () => {
    expect(shutdownProblems(objects)).toEqual([]);
  });

  it('hardens every pod, sizes it, and gives each workload an identity and a PDB', () => {
    expect(podSecurityProblems(objects)).toEqual([]);
    expect(workloadProblems(objects)).toEqual([]);
  });

  it('traces through a provider the installed mesh config defines, at a sampling percentage', () => {
    const providers = list(installedMeshConfig(), 'extensionProviders');
    const names = providers.map((p) => text(p, 'name'));
    const telemetries = ofKind(objects, 'Telemetry');
    expect(telemetries.length).toBeGreaterThan(0);
    for (const telemetry of telemetries) {
      for (const tracing of list(telemetry, 'spec', 'tracing')) {
        expect(typeof get(tracing, 'randomSamplingPercentage')).toBe('number');
        for (const provider of list(tracing, 'providers')) {
          expect(names).toContain(text(provider, 'name'));
        }
      }
    }
    if (overlay === 'local') {
      // The local overlay brings the collector the provider sends to.
      for (const provider of providers) {
        const [name, namespace] = (text(provider, 'opentelemetry', 'service') ?? '').split('.');
        const service = objects.find(
          (o) =>
            o.kind === 'Service' && o.metadata.name === name && o.metadata.namespace === namespace,
        );
        const ports = list(service, 'spec', 'ports').map((p) => get(p, 'port'));
        expect(ports).toContain(get(provider, 'opentelemetry', 'port'));
      }
    }
  });
});

/** The mesh config istiod gets, from `istioctl manifest generate -f mesh/istio-install.yaml`. */
function installedMeshConfig(): unknown {
  const configMap = istioInstall().objects.find(
    (o) => o.kind === 'ConfigMap' && o.metadata.name === 'istio',
  );
  const mesh = text(configMap, 'data', 'mesh');
  if (!mesh) throw new Error('no mesh config in the Istio install manifest');
  return parse(mesh);
}

describe('the checks', () => {
  let objects: K8sObject[];

  beforeAll(() => {
    objects = renderOverlay('local').objects;
  });

  /** A deep copy of the local overlay's objects with one edit. */
  function edited(edit: (copy: K8sObject[]) => void): K8sObject[] {
    const copy = structuredClone(objects);
    edit(copy);
    return copy;
  }

  const routesOf = (copy: K8sObject[], name: string) =>
    list(named(copy, 'VirtualService', name), 'spec', 'http') as Record<string, unknown>[];

  it('catch a path that is not an RPC', () => {
    const copy = edited((c) => {
      const rules = list(named(c, 'AuthorizationPolicy', 'user-service'), 'spec', 'rules');
      (list(rules[0], 'to', 0, 'operation', 'paths') as string[]).push(
        '/shop.user.v1.UserService/GetUsers',
      );
    });
    expect(authorizationPathProblems(copy)).toEqual([
      'AuthorizationPolicy user-service: /shop.user.v1.UserService/GetUsers is not an RPC',
    ]);
  });

  it('catch retries on a create, explicit or by default', () => {
    const explicit = edited((c) => {
      const creates = routesOf(c, 'user-service-routes').find((r) => r.name === 'creates');
      if (creates) creates.retries = { attempts: 3, retryOn: 'unavailable' };
    });
    expect(retryProblems(explicit).join('\n')).toContain('CreateUser');
    const byDefault = edited((c) => {
      const creates = routesOf(c, 'product-service-routes').find((r) => r.name === 'creates');
      if (creates) delete creates.retries;
    });
    expect(retryProblems(byDefault).join('\n')).toContain('CreateProduct');
  });

  it('catch weights that do not add up, and a subset that selects nothing', () => {
    const copy = edited((c) => {
      const reads = routesOf(c, 'product-service-routes').find((r) => r.name === 'reads');
      const destinations = list(reads, 'route') as Record<string, unknown>[];
      if (destinations[1]) destinations[1].weight = 10;
      const subsets = list(named(c, 'DestinationRule', 'product-service'), 'spec', 'subsets');
      const canary = subsets.find((s) => text(s, 'name') === 'canary') as Record<string, unknown>;
      canary.labels = { version: 'v9' };
    });
    expect(weightProblems(copy).join('\n')).toContain('add up to 110');
    expect(destinationProblems(copy).join('\n')).toContain('subset canary');
  });

  it('catch a probe or Service port that is not the service’s port', () => {
    const copy = edited((c) => {
      const user = named(c, 'Deployment', 'user-service-v1');
      const container = list(user, 'spec', 'template', 'spec', 'containers')[0];
      const probe = get(container, 'readinessProbe', 'grpc') as Record<string, unknown>;
      probe.port = 50052;
      const service = list(named(c, 'Service', 'product-service'), 'spec', 'ports')[0];
      (service as Record<string, unknown>).port = 8080;
    });
    const problems = portProblems(copy).join('\n');
    expect(problems).toContain('user-service-v1: readinessProbe checks port 50052');
    expect(problems).toContain('Service product-service');
  });

  it('catch a Gateway no installed gateway serves, or on a port it does not expose', () => {
    const copy = edited((c) => {
      const server = list(named(c, 'Gateway', 'shop-gateway'), 'spec', 'servers')[0];
      (get(server, 'port') as Record<string, unknown>).number = 8443;
    });
    expect(gatewayProblems(copy, istioInstall().objects)).toEqual([
      'Gateway shop-gateway: the ingress gateway Service has no port 8443',
    ]);
    const unselected = edited((c) => {
      (named(c, 'Gateway', 'shop-gateway').spec as Record<string, unknown>).selector = {
        istio: 'shop-gateway',
      };
    });
    expect(gatewayProblems(unselected, istioInstall().objects).join('\n')).toContain(
      'no installed',
    );
  });

  it('catch a shutdown that outlasts the sidecar', () => {
    const copy = edited((c) => {
      const user = named(c, 'Deployment', 'user-service-v1');
      const container = list(user, 'spec', 'template', 'spec', 'containers')[0];
      const grace = list(container, 'env').find((e) => text(e, 'name') === 'SHUTDOWN_GRACE');
      (grace as Record<string, unknown>).value = '30s';
    });
    expect(shutdownProblems(copy).join('\n')).toContain('user-service-v1: sidecar drains');
  });
});
