// What no validator checks: the manifests against the protos and the
// services' own configuration. Each check runs on every overlay, and the
// last block breaks a copy to prove each check can fail.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  allowedPaths,
  authorizationPathProblems,
  authorizationTargetProblems,
  canaryProblems,
  collectorProblems,
  destinationProblems,
  gatewayProblems,
  outlierProblems,
  podSecurityProblems,
  portProblems,
  probeProblems,
  retryProblems,
  rolloutProblems,
  routeCoverageProblems,
  rpcs,
  shopServices,
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
import { installedMeshConfig, istioInstall } from './tools.js';

const gatewayPrincipal = 'cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account';

/**
 * What the ingress gateway may call on UserService: signing up. Every read
 * returns e-mail addresses, so reads stay internal (the public sees owners
 * through ProductService, without e-mail).
 */
const publicUserMethods = ['/shop.user.v1.UserService/CreateUser'];

/** Every object the other overlays render (what this one must not count on). */
const otherOverlays = (overlay: string) =>
  overlayNames()
    .filter((name) => name !== overlay)
    .flatMap((name) => renderOverlay(name).objects);

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

  it('lets the ingress gateway reach all of ProductService and only CreateUser of UserService', () => {
    const product = allowedPaths(objects, 'product-service', gatewayPrincipal);
    const productRpcs = rpcs().filter((r) => r.service === 'shop.product.v1.ProductService');
    expect([...product].sort()).toEqual(productRpcs.map((r) => r.path).sort());
    const user = allowedPaths(objects, 'user-service', gatewayPrincipal);
    expect([...user].sort()).toEqual(publicUserMethods);
  });

  it('retries only methods the protos mark safe, and routes every RPC with a timeout', () => {
    expect(retryProblems(objects)).toEqual([]);
    expect(routeCoverageProblems(objects)).toEqual([]);
  });

  it('routes to Services, ports and subsets that exist and select Deployments that exist', () => {
    expect(destinationProblems(objects)).toEqual([]);
  });

  it('splits both services between stable and canary by weights that add up to 100', () => {
    expect(weightProblems(objects)).toEqual([]);
    expect(canaryProblems(objects)).toEqual([]);
    expect(shopServices().sort()).toEqual(['product-service', 'user-service']);
  });

  it.each(shopServices())('splits %s between stable and canary on every route', (service) => {
    const routes = list(named(objects, 'VirtualService', `${service}-routes`), 'spec', 'http');
    const weighted = routes.filter((r) => list(r, 'route').length === 2);
    expect(weighted.length).toBe(routes.length - 1);
    for (const route of weighted) {
      expect(list(route, 'route').map((r) => text(r, 'destination', 'subset'))).toEqual([
        'stable',
        'canary',
      ]);
    }
  });

  it('binds the Gateway to the ingress gateway mesh/istio-install.yaml installs, on its ports', () => {
    expect(gatewayProblems(objects, istioInstall().objects)).toEqual([]);
  });

  it.each(shopServices())('sends `x-canary: true` to the canary subset of %s', (service) => {
    const routes = list(named(objects, 'VirtualService', `${service}-routes`), 'spec', 'http');
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

  it('probes readiness on the default health name, startup and liveness on `liveness`', () => {
    expect(probeProblems(objects)).toEqual([]);
  });

  it('rolls out without losing capacity, or, on a shared SQLite volume, one pod at a time', () => {
    expect(rolloutProblems(objects)).toEqual([]);
  });

  it('ejects only pods that cannot be reached, not pods that answer UNAVAILABLE', () => {
    expect(outlierProblems(objects)).toEqual([]);
  });

  it('hardens every pod, sizes it, and gives each workload an identity and a PDB', () => {
    expect(podSecurityProblems(objects)).toEqual([]);
    expect(workloadProblems(objects)).toEqual([]);
  });

  it('traces through a provider the installed mesh config defines, at a sampling percentage', () => {
    const providers = list(installedMeshConfig(overlay), 'extensionProviders');
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
  });

  it('exports services’ and proxies’ spans to one collector it deploys or expects', () => {
    expect(
      collectorProblems(objects, installedMeshConfig(overlay), otherOverlays(overlay)),
    ).toEqual([]);
  });
});

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

  it.each(shopServices())(
    'catch weights of %s that do not add up, or disagree, and a subset that selects nothing',
    (service) => {
      const copy = edited((c) => {
        const reads = routesOf(c, `${service}-routes`).find((r) => r.name === 'reads');
        const destinations = list(reads, 'route') as Record<string, unknown>[];
        if (destinations[1]) destinations[1].weight = 10;
        const subsets = list(named(c, 'DestinationRule', service), 'spec', 'subsets');
        const canary = subsets.find((s) => text(s, 'name') === 'canary') as Record<string, unknown>;
        canary.labels = { version: 'v9' };
      });
      const weights = weightProblems(copy).join('\n');
      expect(weights).toContain(`shop/${service}-routes route reads: weights add up to 110`);
      expect(weights).toContain(`splits ${service}.shop.svc.cluster.local`);
      expect(destinationProblems(copy)).toEqual([
        `DestinationRule ${service}: subset canary ({"app":"${service}","version":"v9"}) ` +
          'selects no Deployment',
      ]);
    },
  );

  it.each(shopServices())(
    'catch a route of %s that does not split to stable and canary',
    (service) => {
      const copy = edited((c) => {
        const creates = routesOf(c, `${service}-routes`).find((r) => r.name === 'creates');
        if (creates) creates.route = (list(creates, 'route') as unknown[]).slice(0, 1);
        const canary = routesOf(c, `${service}-routes`).find((r) => r.name === 'canary');
        if (canary) delete canary.match;
        const subsets = list(named(c, 'DestinationRule', service), 'spec', 'subsets');
        subsets.splice(1, 1);
      });
      expect(canaryProblems(copy)).toEqual([
        `DestinationRule for ${service}.shop.svc.cluster.local: no subset canary selecting a version label`,
        `shop/${service}-routes: the first route must send x-canary: true to the canary only`,
        `shop/${service}-routes route creates: not split by weight to stable and canary`,
      ]);
    },
  );

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

  const podOf = (copy: K8sObject[], name: string) =>
    get(named(copy, 'Deployment', name), 'spec', 'template') as Record<string, unknown>;
  const containerOf = (copy: K8sObject[], name: string) =>
    list(podOf(copy, name), 'spec', 'containers')[0] as Record<string, unknown>;

  it('catch a shutdown that outlasts the sidecar', () => {
    const copy = edited((c) => {
      const container = containerOf(c, 'user-service-v1');
      const grace = list(container, 'env').find((e) => text(e, 'name') === 'SHUTDOWN_GRACE');
      (grace as Record<string, unknown>).value = '30s';
    });
    expect(shutdownProblems(copy).join('\n')).toContain('user-service-v1: sidecar drains');
  });

  it('catch a sidecar drain without margin over the app, or a grace period without margin', () => {
    const drainEqualsApp = edited((c) => {
      const annotations = get(podOf(c, 'user-service-v1'), 'metadata', 'annotations');
      (annotations as Record<string, string>)['proxy.istio.io/config'] =
        'terminationDrainDuration: 20s\n';
    });
    expect(shutdownProblems(drainEqualsApp)).toEqual([
      'user-service-v1: sidecar drains 20s but the app needs 20s to stop, plus 5s margin',
    ]);
    const graceEqualsDrain = edited((c) => {
      (
        get(podOf(c, 'product-service-v2'), 'spec') as Record<string, unknown>
      ).terminationGracePeriodSeconds = 25;
    });
    expect(shutdownProblems(graceEqualsDrain).join('\n')).toContain(
      'product-service-v2: terminationGracePeriodSeconds 25 does not cover',
    );
  });

  it('catch startup or liveness probing readiness, readiness probing liveness, a long startup', () => {
    const copy = edited((c) => {
      const user = containerOf(c, 'user-service-v1');
      delete (get(user, 'livenessProbe', 'grpc') as Record<string, unknown>).service;
      (get(user, 'readinessProbe', 'grpc') as Record<string, unknown>).service = 'liveness';
      const product = containerOf(c, 'product-service-v1');
      (get(product, 'startupProbe', 'grpc') as Record<string, unknown>).service = '';
      const startup = get(containerOf(c, 'product-service-v2'), 'startupProbe');
      Object.assign(startup as object, { periodSeconds: 5, failureThreshold: 30 });
    });
    const problems = probeProblems(copy).join('\n');
    expect(problems).toContain('user-service-v1: livenessProbe asks for service ""');
    expect(problems).toContain('user-service-v1: readinessProbe asks for service "liveness"');
    expect(problems).toContain('product-service-v1: startupProbe asks for service ""');
    expect(problems).toContain('product-service-v2: startupProbe waits 150s');
  });

  it('catch a rolling update on a shared SQLite volume, and Recreate with surge settings', () => {
    const copy = edited((c) => {
      const user = named(c, 'Deployment', 'user-service-v1').spec as Record<string, unknown>;
      user.strategy = { rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } };
      const product = named(c, 'Deployment', 'product-service-v1').spec as Record<string, unknown>;
      product.strategy = { type: 'Recreate', rollingUpdate: { maxSurge: 1 } };
    });
    const problems = rolloutProblems(copy).join('\n');
    expect(problems).toContain('user-service-v1: mounts claim user-service-data');
    expect(problems).toContain('product-service-v1: strategy Recreate with rollingUpdate');
  });

  it('catch outlier detection that counts gRPC errors', () => {
    const copy = edited((c) => {
      const rule = named(c, 'DestinationRule', 'product-service');
      const outlier = get(rule, 'spec', 'trafficPolicy', 'outlierDetection');
      delete (outlier as Record<string, unknown>).consecutive5xxErrors;
      delete (outlier as Record<string, unknown>).splitExternalLocalOriginErrors;
    });
    expect(outlierProblems(copy)).toEqual([
      'DestinationRule product-service: consecutive5xxErrors is not 0, so gRPC errors eject pods',
      'DestinationRule product-service: splitExternalLocalOriginErrors is not true',
    ]);
  });

  it('catch production exporting to the local Jaeger, and proxies exporting elsewhere', () => {
    const production = renderOverlay('production').objects;
    const toLocalJaeger = structuredClone(production);
    const config = ofKind(toLocalJaeger, 'ConfigMap').find((cm) =>
      cm.metadata.name.startsWith('otel-config'),
    );
    (config?.data as Record<string, string>).OTEL_EXPORTER_OTLP_ENDPOINT =
      'http://jaeger-collector.observability.svc.cluster.local:4317';
    const problems = collectorProblems(toLocalJaeger, installedMeshConfig(), objects);
    expect(problems).toEqual([
      'exports to jaeger-collector.observability.svc.cluster.local, which only another overlay deploys',
    ]);
    expect(collectorProblems(production, installedMeshConfig(), objects)).toEqual([
      'tracing provider otel-tracing sends to jaeger-collector.observability.svc.cluster.local:4317, ' +
        'the services to otel-collector.observability.svc.cluster.local:4317',
    ]);
  });
});
