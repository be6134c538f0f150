// Checks no validator does for us, over rendered objects. Each returns the
// problems it finds (empty when all is well), so a failing test says all of
// them at once, and the canary test can run the same checks on a copy.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MethodOptions_IdempotencyLevel } from '@bufbuild/protobuf/wkt';
import { parse } from 'yaml';
import { PRODUCT_SERVICE_PORT } from '../../services/product/config.js';
import { protoRegistry } from '../../services/shared/grpc/descriptors.js';
import { LIVENESS } from '../../services/shared/grpc/health.js';
import { USER_SERVICE_PORT } from '../../services/user/config.js';
import { get, type K8sObject, labels, list, ofKind, repoRoot, selects, text } from './manifests.js';
import { rolloutManagedDestinationRules } from './rollouts.js';
import {
  type Destination,
  effectiveRoutes,
  headerVariants,
  ownRoutes,
  retryAttempts,
  rootVirtualServices,
  routeFor,
  vsKey,
} from './routes.js';

export interface Rpc {
  path: string;
  service: string;
  method: string;
  idempotency: MethodOptions_IdempotencyLevel;
}

/** Every RPC in proto/, from the descriptor set the services are built from. */
export function rpcs(): Rpc[] {
  const out: Rpc[] = [];
  for (const type of protoRegistry()) {
    if (type.kind !== 'service') continue;
    for (const method of type.methods) {
      out.push({
        path: `/${type.typeName}/${method.name}`,
        service: type.typeName,
        method: method.name,
        idempotency: method.idempotency,
      });
    }
  }
  return out;
}

const safeToRetry = (rpc: Rpc) =>
  rpc.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS ||
  rpc.idempotency === MethodOptions_IdempotencyLevel.IDEMPOTENT;

/** Each service's gRPC port, from the defaults its config.ts exports. */
export const grpcPorts: Record<string, number> = {
  'user-service': USER_SERVICE_PORT,
  'product-service': PRODUCT_SERVICE_PORT,
};

function pathsOf(rule: unknown, key: 'paths' | 'notPaths'): string[] {
  return list(rule, 'to').flatMap((to) => list(to, 'operation', key).map(String));
}

export function authorizationPathProblems(objects: readonly K8sObject[]): string[] {
  const known = new Set(rpcs().map((rpc) => rpc.path));
  const problems: string[] = [];
  for (const policy of ofKind(objects, 'AuthorizationPolicy')) {
    for (const rule of list(policy, 'spec', 'rules')) {
      for (const path of [...pathsOf(rule, 'paths'), ...pathsOf(rule, 'notPaths')]) {
        if (!known.has(path)) {
          problems.push(`AuthorizationPolicy ${policy.metadata.name}: ${path} is not an RPC`);
        }
      }
    }
  }
  return problems;
}

/** Workload pod templates (from Deployments) in a namespace. */
function podTemplates(objects: readonly K8sObject[], namespace: string) {
  return ofKind(objects, 'Deployment')
    .filter((d) => d.metadata.namespace === namespace)
    .map((d) => ({
      name: d.metadata.name,
      labels: labels(d, 'spec', 'template', 'metadata', 'labels'),
    }));
}

export function authorizationTargetProblems(
  objects: readonly K8sObject[],
  cluster: readonly K8sObject[],
): string[] {
  const problems: string[] = [];
  const accounts = new Set(
    [...objects, ...cluster]
      .filter((o) => o.kind === 'ServiceAccount')
      .map((sa) => `cluster.local/ns/${sa.metadata.namespace}/sa/${sa.metadata.name}`),
  );
  for (const policy of ofKind(objects, 'AuthorizationPolicy')) {
    const selector = labels(policy, 'spec', 'selector', 'matchLabels');
    const namespace = policy.metadata.namespace ?? 'default';
    if (
      Object.keys(selector).length > 0 &&
      // The ingress gateway's pods come from the Istio install (cluster).
      !podTemplates([...objects, ...cluster], namespace).some((pod) =>
        selects(selector, pod.labels),
      )
    ) {
      problems.push(`AuthorizationPolicy ${policy.metadata.name} selects no Deployment's pods`);
    }
    for (const rule of list(policy, 'spec', 'rules')) {
      for (const from of list(rule, 'from')) {
        for (const principal of list(from, 'source', 'principals').map(String)) {
          if (!accounts.has(principal)) {
            problems.push(
              `AuthorizationPolicy ${policy.metadata.name}: no ServiceAccount for ${principal}`,
            );
          }
        }
      }
    }
  }
  return problems;
}

/** Paths an AuthorizationPolicy lets `principal` call on the workloads labelled `app`. */
export function allowedPaths(objects: readonly K8sObject[], app: string, principal: string) {
  const paths = new Set<string>();
  for (const policy of ofKind(objects, 'AuthorizationPolicy')) {
    if (labels(policy, 'spec', 'selector', 'matchLabels').app !== app) continue;
    if ((text(policy, 'spec', 'action') ?? 'ALLOW') !== 'ALLOW') continue;
    for (const rule of list(policy, 'spec', 'rules')) {
      const principals = list(rule, 'from').flatMap((f) => list(f, 'source', 'principals'));
      if (principals.includes(principal)) for (const p of pathsOf(rule, 'paths')) paths.add(p);
    }
  }
  return paths;
}

/**
 * No route that retries (explicitly, or by Istio's default when `retries` is
 * absent) can be taken by an RPC whose proto does not mark it safe to retry.
 */
export function retryProblems(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  for (const root of rootVirtualServices(objects)) {
    const routes = effectiveRoutes(root, objects);
    for (const headers of headerVariants(routes)) {
      for (const rpc of rpcs()) {
        const route = routeFor(routes, { path: rpc.path, headers });
        if (!route || retryAttempts(route) === 0 || safeToRetry(rpc)) continue;
        problems.push(
          `${vsKey(root)} route ${route.source}:${route.name} retries ${rpc.path} ` +
            `(${JSON.stringify(headers)}), which proto/ does not mark safe to retry`,
        );
      }
    }
  }
  return problems;
}

/** Every route has a timeout; every call to a host the mesh routes matches some route. */
export function routeCoverageProblems(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  for (const vs of ofKind(objects, 'VirtualService')) {
    for (const route of ownRoutes(vs)) {
      if (route.destinations.length > 0 && !route.timeout) {
        problems.push(`${vsKey(vs)} route ${route.name} has no timeout`);
      }
    }
  }
  for (const root of rootVirtualServices(objects)) {
    if (list(root, 'spec', 'gateways').length > 0) continue; // gateways route only what they expose
    const routes = effectiveRoutes(root, objects);
    for (const rpc of rpcs()) {
      if (!routeFor(routes, { path: rpc.path, headers: {} })) {
        problems.push(`${vsKey(root)} has no route for ${rpc.path} (the caller would get 404)`);
      }
    }
  }
  return problems;
}

function serviceFor(objects: readonly K8sObject[], host: string): K8sObject | undefined {
  return ofKind(objects, 'Service').find(
    (s) => `${s.metadata.name}.${s.metadata.namespace}.svc.cluster.local` === host,
  );
}

function allDestinations(objects: readonly K8sObject[]): { vs: string; dest: Destination }[] {
  return ofKind(objects, 'VirtualService').flatMap((vs) =>
    ownRoutes(vs).flatMap((route) => route.destinations.map((dest) => ({ vs: vsKey(vs), dest }))),
  );
}

/**
 * Route destinations name Services that exist, on ports they have; subsets
 * exist in the host's DestinationRule and select pods of Deployments that
 * exist (through the Service's selector too).
 */
export function destinationProblems(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  for (const { vs, dest } of allDestinations(objects)) {
    const service = serviceFor(objects, dest.host);
    if (!service) {
      problems.push(`${vs}: no Service for host ${dest.host} (use the FQDN)`);
      continue;
    }
    const ports = list(service, 'spec', 'ports').map((p) => get(p, 'port'));
    if (dest.port !== undefined && !ports.includes(dest.port)) {
      problems.push(`${vs}: ${dest.host} has no port ${dest.port}`);
    }
    if (dest.subset === undefined) continue;
    const rule = ofKind(objects, 'DestinationRule').find(
      (dr) => text(dr, 'spec', 'host') === dest.host,
    );
    const subset = list(rule, 'spec', 'subsets').find((s) => text(s, 'name') === dest.subset);
    if (!subset) {
      problems.push(`${vs}: subset ${dest.subset} of ${dest.host} is not in a DestinationRule`);
    }
  }
  for (const rule of ofKind(objects, 'DestinationRule')) {
    const host = text(rule, 'spec', 'host') ?? '';
    const service = serviceFor(objects, host);
    if (!service) {
      problems.push(`DestinationRule ${rule.metadata.name}: no Service for ${host}`);
      continue;
    }
    const selector = labels(service, 'spec', 'selector');
    for (const subset of list(rule, 'spec', 'subsets')) {
      const wanted = { ...selector, ...labels(subset, 'labels') };
      const pods = podTemplates(objects, service.metadata.namespace ?? 'default').filter((pod) =>
        selects(wanted, pod.labels),
      );
      if (pods.length === 0) {
        problems.push(
          `DestinationRule ${rule.metadata.name}: subset ${text(subset, 'name')} ` +
            `(${JSON.stringify(wanted)}) selects no Deployment`,
        );
      }
    }
  }
  return problems;
}

/** Weighted routes add up to 100, and all of one host's weighted routes split alike. */
export function weightProblems(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  const splits = new Map<string, string>();
  for (const vs of ofKind(objects, 'VirtualService')) {
    for (const route of ownRoutes(vs)) {
      if (route.destinations.length < 2) continue;
      const total = route.destinations.reduce((sum, d) => sum + (d.weight ?? 0), 0);
      if (total !== 100)
        problems.push(`${vsKey(vs)} route ${route.name}: weights add up to ${total}`);
      const host = route.destinations[0]?.host ?? '';
      const split = JSON.stringify(route.destinations.map((d) => [d.subset, d.weight]));
      const seen = splits.get(host);
      if (seen !== undefined && seen !== split) {
        problems.push(`${vsKey(vs)} route ${route.name} splits ${host} ${split}, another ${seen}`);
      }
      splits.set(host, split);
    }
  }
  return problems;
}

/** The shop's services, by name: the ones whose gRPC port config.ts defines. */
export const shopServices = () => Object.keys(grpcPorts);

/**
 * Both services are shaped for a canary release alike, the way `npm run
 * canary` expects: the DestinationRule has `stable` and `canary` subsets
 * that select on the `version` label; in `<service>-routes` the first route
 * sends `x-canary: true` to the canary only, and every other route splits
 * between stable and canary by weight. (weightProblems checks the weights,
 * destinationProblems that the subsets select Deployments.)
 */
export function canaryProblems(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  // A Rollout's controller sets these subsets' labels itself (the pod
  // template hash): test/k8s/rollouts.ts checks those.
  const managed = rolloutManagedDestinationRules(objects);
  for (const service of shopServices()) {
    const host = `${service}.shop.svc.cluster.local`;
    const rule = ofKind(objects, 'DestinationRule').find((dr) => text(dr, 'spec', 'host') === host);
    const byRollout =
      rule !== undefined && managed.has(`${rule.metadata.namespace}/${rule.metadata.name}`);
    for (const name of ['stable', 'canary']) {
      const subset = list(rule, 'spec', 'subsets').find((s) => text(s, 'name') === name);
      if (byRollout ? subset === undefined : text(subset, 'labels', 'version') === undefined) {
        problems.push(`DestinationRule for ${host}: no subset ${name} selecting a version label`);
      }
    }
    const vs = ofKind(objects, 'VirtualService').find(
      (v) => v.metadata.name === `${service}-routes`,
    );
    if (!vs) {
      problems.push(`no VirtualService ${service}-routes`);
      continue;
    }
    const [first, ...rest] = ownRoutes(vs);
    const header = get(list(vs, 'spec', 'http')[0], 'match', 0, 'headers', 'x-canary', 'exact');
    const subsetsOf = (route: (typeof rest)[number] | undefined) =>
      JSON.stringify(route?.destinations.map((d) => d.subset));
    if (header !== 'true' || subsetsOf(first) !== '["canary"]') {
      problems.push(`${vsKey(vs)}: the first route must send x-canary: true to the canary only`);
    }
    for (const route of rest) {
      const weighted = route.destinations.every((d) => d.weight !== undefined);
      if (subsetsOf(route) !== '["stable","canary"]' || !weighted) {
        problems.push(`${vsKey(vs)} route ${route.name}: not split by weight to stable and canary`);
      }
    }
  }
  return problems;
}

function containers(deployment: K8sObject): unknown[] {
  return list(deployment, 'spec', 'template', 'spec', 'containers');
}

function envValue(container: unknown, name: string): string | undefined {
  const entry = list(container, 'env').find((e) => text(e, 'name') === name);
  return text(entry, 'value');
}

/** The shop's workloads: Deployments whose `app` label names one of our services. */
export function shopDeployments(objects: readonly K8sObject[]): K8sObject[] {
  return ofKind(objects, 'Deployment').filter(
    (d) => grpcPorts[d.metadata.labels?.app ?? ''] !== undefined,
  );
}

/**
 * Container, probe, Service and route ports agree with each service's port
 * (USER_SERVICE_PORT / PRODUCT_SERVICE_PORT), and so does every address
 * pointing at UserService.
 */
export function portProblems(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  const metricsPort = ofKind(objects, 'ConfigMap')
    .map((cm) => text(cm, 'data', 'METRICS_PORT'))
    .find((p) => p !== undefined);
  for (const deployment of shopDeployments(objects)) {
    const app = deployment.metadata.labels?.app ?? '';
    const port = grpcPorts[app];
    const name = deployment.metadata.name;
    const container = containers(deployment)[0];
    const ports = list(container, 'ports');
    const grpc = ports.find((p) => text(p, 'name') === 'grpc');
    if (get(grpc, 'containerPort') !== port) {
      problems.push(`${name}: container port grpc is ${get(grpc, 'containerPort')}, not ${port}`);
    }
    const configured = envValue(container, 'GRPC_PORT');
    if (configured !== undefined && Number(configured) !== port) {
      problems.push(`${name}: GRPC_PORT ${configured} is not the container port ${port}`);
    }
    for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
      const probePort = get(container, probe, 'grpc', 'port');
      if (probePort !== port)
        problems.push(`${name}: ${probe} checks port ${probePort}, not ${port}`);
    }
    const metrics = ports.find((p) => text(p, 'name') === 'http-metrics');
    const annotation = text(
      deployment,
      'spec',
      'template',
      'metadata',
      'annotations',
      'prometheus.io/port',
    );
    if (String(get(metrics, 'containerPort')) !== metricsPort || annotation !== metricsPort) {
      problems.push(
        `${name}: metrics port ${get(metrics, 'containerPort')} / annotation ${annotation} ` +
          `differ from METRICS_PORT ${metricsPort}`,
      );
    }
    const userAddress = envValue(container, 'USER_SERVICE_ADDRESS');
    if (userAddress !== undefined && userAddress !== `user-service:${USER_SERVICE_PORT}`) {
      problems.push(
        `${name}: USER_SERVICE_ADDRESS ${userAddress} is not user-service:${USER_SERVICE_PORT}`,
      );
    }
  }
  for (const service of ofKind(objects, 'Service')) {
    const port = grpcPorts[service.metadata.name];
    if (port === undefined) continue;
    const grpc = list(service, 'spec', 'ports').find((p) => text(p, 'name') === 'grpc');
    if (!grpc || get(grpc, 'port') !== port || text(grpc, 'appProtocol') !== 'grpc') {
      problems.push(`Service ${service.metadata.name}: needs port grpc ${port}, appProtocol grpc`);
    }
    if (text(grpc, 'targetPort') !== 'grpc') {
      problems.push(`Service ${service.metadata.name}: targetPort must be the named port grpc`);
    }
  }
  return problems;
}

/** Longest the startup probe may wait: it covers the process starting and listening only. */
export const maxStartupSeconds = 60;

/**
 * Readiness asks the health service for the default (empty) name, which is
 * NOT_SERVING while the database is unreachable; startup and liveness ask for
 * LIVENESS, which is SERVING whenever the process listens, so a database that
 * is down at start keeps the pod unready instead of restarting it in a loop.
 */
export function probeProblems(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  for (const deployment of shopDeployments(objects)) {
    const name = deployment.metadata.name;
    const container = containers(deployment)[0];
    const readiness = get(container, 'readinessProbe', 'grpc');
    if (readiness === undefined) problems.push(`${name}: readinessProbe is not a gRPC probe`);
    const readinessService = text(readiness, 'service') ?? '';
    if (readinessService !== '') {
      problems.push(
        `${name}: readinessProbe asks for service "${readinessService}", not the default ` +
          `(empty) name that the database gates`,
      );
    }
    for (const probe of ['startupProbe', 'livenessProbe']) {
      const service = text(container, probe, 'grpc', 'service');
      if (service !== LIVENESS) {
        problems.push(
          `${name}: ${probe} asks for service "${service ?? ''}", not "${LIVENESS}": a database ` +
            `that is down would get the pod restarted in a loop`,
        );
      }
    }
    const period = Number(get(container, 'startupProbe', 'periodSeconds') ?? 10);
    const threshold = Number(get(container, 'startupProbe', 'failureThreshold') ?? 3);
    if (period * threshold > maxStartupSeconds) {
      problems.push(
        `${name}: startupProbe waits ${period * threshold}s, more than ${maxStartupSeconds}s ` +
          `for a process to listen (waiting for the database is readiness's job)`,
      );
    }
  }
  return problems;
}

/**
 * Rollouts keep serving where they can and never put two writers on one
 * SQLite file: a Deployment whose pods mount a PersistentVolumeClaim is
 * `Recreate` (the old pod stops before the new one starts); every other
 * shop Deployment rolls with maxUnavailable 0. Recreate with rollingUpdate
 * settings is rejected by the API server, though its schema allows it.
 */
export function rolloutProblems(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  for (const deployment of shopDeployments(objects)) {
    const name = deployment.metadata.name;
    const strategy = get(deployment, 'spec', 'strategy');
    const type = text(strategy, 'type') ?? 'RollingUpdate';
    const claims = list(deployment, 'spec', 'template', 'spec', 'volumes').filter(
      (v) => get(v, 'persistentVolumeClaim') !== undefined,
    );
    if (type === 'Recreate' && get(strategy, 'rollingUpdate') !== undefined) {
      problems.push(`${name}: strategy Recreate with rollingUpdate settings`);
    }
    if (claims.length > 0 && type !== 'Recreate') {
      problems.push(
        `${name}: mounts claim ${text(claims[0], 'persistentVolumeClaim', 'claimName')} but ` +
          `rolls with ${type}: old and new pod would write one SQLite file at once`,
      );
    }
    if (claims.length === 0 && get(strategy, 'rollingUpdate', 'maxUnavailable') !== 0) {
      problems.push(`${name}: rollouts may take serving pods away (maxUnavailable is not 0)`);
    }
  }
  return problems;
}

/** Outlier detection settings of a DestinationRule, its subsets included. */
function outlierSettings(rule: K8sObject): { where: string; settings: unknown }[] {
  const name = `DestinationRule ${rule.metadata.name}`;
  return [
    { where: name, settings: get(rule, 'spec', 'trafficPolicy', 'outlierDetection') },
    ...list(rule, 'spec', 'subsets').map((subset) => ({
      where: `${name} subset ${text(subset, 'name')}`,
      settings: get(subset, 'trafficPolicy', 'outlierDetection'),
    })),
  ].filter((entry) => entry.settings !== undefined);
}

/**
 * Pods are ejected for failing to be reached (locally originated failures:
 * connect failures, resets, timeouts), never for the statuses they answer:
 * Envoy counts gRPC UNAVAILABLE as a 5xx, and a healthy pod answers it while
 * its database or UserService is down, yet still serves degraded reads.
 * consecutive5xxErrors has to be an explicit 0 (unset, Istio uses 5).
 */
export function outlierProblems(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  for (const rule of ofKind(objects, 'DestinationRule')) {
    const entries = outlierSettings(rule);
    if (entries.length === 0) {
      problems.push(`DestinationRule ${rule.metadata.name}: no outlier detection`);
    }
    for (const { where, settings } of entries) {
      if (get(settings, 'consecutive5xxErrors') !== 0) {
        problems.push(`${where}: consecutive5xxErrors is not 0, so gRPC errors eject pods`);
      }
      if ((get(settings, 'consecutiveGatewayErrors') ?? 0) !== 0) {
        problems.push(`${where}: consecutiveGatewayErrors counts gRPC UNAVAILABLE (503)`);
      }
      if (get(settings, 'splitExternalLocalOriginErrors') !== true) {
        problems.push(`${where}: splitExternalLocalOriginErrors is not true`);
      }
      const local = get(settings, 'consecutiveLocalOriginFailures');
      if (typeof local !== 'number' || local <= 0) {
        problems.push(`${where}: consecutiveLocalOriginFailures must be set above 0`);
      }
    }
  }
  return problems;
}

function hostPort(address: string): string {
  const url = new URL(address.includes('://') ? address : `grpc://${address}`);
  return `${url.hostname}:${url.port}`;
}

/**
 * The services (OTEL_EXPORTER_OTLP_ENDPOINT) and every proxy (each tracing
 * provider a Telemetry resource uses, from the installed mesh config) export
 * to the same collector, and the overlay either deploys that collector, on
 * that port, or names one that no other overlay deploys: production must not
 * export to the local overlay's Jaeger, which it does not have.
 */
export function collectorProblems(
  objects: readonly K8sObject[],
  meshConfig: unknown,
  otherOverlays: readonly K8sObject[],
): string[] {
  const problems: string[] = [];
  const endpoint = ofKind(objects, 'ConfigMap')
    .map((cm) => text(cm, 'data', 'OTEL_EXPORTER_OTLP_ENDPOINT'))
    .find((e) => e !== undefined);
  if (endpoint === undefined) return ['no ConfigMap sets OTEL_EXPORTER_OTLP_ENDPOINT'];
  const collector = hostPort(endpoint);
  const used = new Set(
    ofKind(objects, 'Telemetry').flatMap((t) =>
      list(t, 'spec', 'tracing').flatMap((tr) => list(tr, 'providers').map((p) => text(p, 'name'))),
    ),
  );
  for (const provider of list(meshConfig, 'extensionProviders')) {
    if (!used.has(text(provider, 'name'))) continue;
    const service = text(provider, 'opentelemetry', 'service') ?? '';
    const proxies = `${service}:${get(provider, 'opentelemetry', 'port')}`;
    if (proxies !== collector) {
      problems.push(
        `tracing provider ${text(provider, 'name')} sends to ${proxies}, the services to ${collector}`,
      );
    }
  }
  const [host = '', port = ''] = collector.split(':');
  const isCollector = (o: K8sObject) => {
    const short = `${o.metadata.name}.${o.metadata.namespace}`;
    return (
      o.kind === 'Service' && [short, `${short}.svc`, `${short}.svc.cluster.local`].includes(host)
    );
  };
  const here = objects.find(isCollector);
  if (here) {
    const ports = list(here, 'spec', 'ports').map((p) => String(get(p, 'port')));
    if (!ports.includes(port)) problems.push(`Service ${host} has no port ${port}`);
  } else if (otherOverlays.some(isCollector)) {
    problems.push(`exports to ${host}, which only another overlay deploys`);
  }
  return problems;
}

/** Go duration ("10s", "1.5m", "500ms") in seconds. */
export function seconds(duration: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(duration);
  if (!match) throw new Error(`not a duration: ${duration}`);
  const unit = { ms: 0.001, s: 1, m: 60, h: 3600 }[match[2] as 'ms' | 's' | 'm' | 'h'];
  return Number(match[1]) * unit;
}

/** Time the app needs after SIGTERM beyond SHUTDOWN_GRACE: flush telemetry, close the store. */
export const flushAllowanceSeconds = 5;

/**
 * How much longer than the app the sidecar must drain, and the grace period
 * must last than the sidecar: the app's last span export must not go out
 * through a proxy that is exiting in the same second.
 */
export const shutdownMarginSeconds = 5;

/**
 * Shutdown fits: preStop pause, then SHUTDOWN_GRACE for calls in flight, then
 * flushing; the sidecar drains a margin longer than that, and the grace
 * period a margin longer than the sidecar.
 */
export function shutdownProblems(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  for (const deployment of shopDeployments(objects)) {
    const name = deployment.metadata.name;
    const pod = get(deployment, 'spec', 'template', 'spec');
    const container = containers(deployment)[0];
    const preStop = Number(get(container, 'lifecycle', 'preStop', 'sleep', 'seconds') ?? 0);
    const grace = seconds(envValue(container, 'SHUTDOWN_GRACE') ?? '10s');
    const proxyConfig = parse(
      text(deployment, 'spec', 'template', 'metadata', 'annotations', 'proxy.istio.io/config') ??
        '{}',
    ) as unknown;
    const drain = seconds(text(proxyConfig, 'terminationDrainDuration') ?? '5s');
    const period = Number(get(pod, 'terminationGracePeriodSeconds') ?? 30);
    const app = preStop + grace + flushAllowanceSeconds;
    const margin = shutdownMarginSeconds;
    if (preStop <= 0) problems.push(`${name}: no preStop pause before SIGTERM`);
    if (drain < app + margin) {
      problems.push(
        `${name}: sidecar drains ${drain}s but the app needs ${app}s to stop, plus ${margin}s margin`,
      );
    }
    if (period < drain + margin) {
      problems.push(
        `${name}: terminationGracePeriodSeconds ${period} does not cover the sidecar drain ` +
          `${drain}s plus ${margin}s margin`,
      );
    }
  }
  return problems;
}

/** Pod hardening and resources the issue asks for, on every container we ship. */
export function podSecurityProblems(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  for (const deployment of ofKind(objects, 'Deployment')) {
    const name = deployment.metadata.name;
    const pod = get(deployment, 'spec', 'template', 'spec');
    if (get(pod, 'securityContext', 'seccompProfile', 'type') !== 'RuntimeDefault') {
      problems.push(`${name}: seccompProfile is not RuntimeDefault`);
    }
    for (const container of containers(deployment)) {
      const c = `${name}/${text(container, 'name')}`;
      const sc = get(container, 'securityContext');
      if (get(sc, 'runAsNonRoot') !== true) problems.push(`${c}: runAsNonRoot is not true`);
      if (get(sc, 'readOnlyRootFilesystem') !== true)
        problems.push(`${c}: root filesystem writable`);
      if (get(sc, 'allowPrivilegeEscalation') !== false)
        problems.push(`${c}: privilege escalation`);
      if (!list(sc, 'capabilities', 'drop').includes('ALL'))
        problems.push(`${c}: keeps capabilities`);
      for (const kind of ['requests', 'limits']) {
        for (const resource of ['cpu', 'memory']) {
          if (get(container, 'resources', kind, resource) === undefined) {
            problems.push(`${c}: no ${resource} ${kind}`);
          }
        }
      }
    }
  }
  return problems;
}

/** Each shop workload has a ServiceAccount of its own, a PDB, and (where it scales) an HPA. */
export function workloadProblems(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  const hpas = ofKind(objects, 'HorizontalPodAutoscaler');
  for (const deployment of shopDeployments(objects)) {
    const name = deployment.metadata.name;
    const app = deployment.metadata.labels?.app ?? '';
    const podLabels = labels(deployment, 'spec', 'template', 'metadata', 'labels');
    if (!podLabels.app || !podLabels.version)
      problems.push(`${name}: pods need app and version labels`);
    if (text(deployment, 'spec', 'template', 'spec', 'serviceAccountName') !== app) {
      problems.push(`${name}: runs as ServiceAccount other than ${app}`);
    }
    if (
      !ofKind(objects, 'PodDisruptionBudget').some((pdb) =>
        selects(labels(pdb, 'spec', 'selector', 'matchLabels'), podLabels),
      )
    ) {
      problems.push(`${name}: no PodDisruptionBudget`);
    }
    const scaled = hpas.some(
      (hpa) =>
        text(hpa, 'spec', 'scaleTargetRef', 'kind') === 'Deployment' &&
        text(hpa, 'spec', 'scaleTargetRef', 'name') === name,
    );
    const fixed = get(deployment, 'spec', 'replicas') !== undefined;
    if (!scaled && !fixed) problems.push(`${name}: neither autoscaled nor given replicas`);
    if (scaled && fixed) problems.push(`${name}: replicas would fight the HorizontalPodAutoscaler`);
  }
  for (const namespace of ofKind(objects, 'Namespace')) {
    const hasShop = shopDeployments(objects).some(
      (d) => d.metadata.namespace === namespace.metadata.name,
    );
    if (hasShop && namespace.metadata.labels?.['istio-injection'] !== 'enabled') {
      problems.push(`Namespace ${namespace.metadata.name} is not labelled for sidecar injection`);
    }
  }
  return problems;
}

/** Methods of user-service (UserService, UserEventService) that ProductService's code calls. */
export function userMethodsProductCalls(): string[] {
  const dir = join(repoRoot, 'services/product');
  const source = readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .join('\n');
  return rpcs()
    .filter((rpc) => rpc.service.startsWith('shop.user.v1.'))
    .filter((rpc) => {
      // A client method is called directly (`client.getUser(`) or named to a
      // call helper (`unaryCall(client, 'getUser', …)`).
      const name = `${rpc.method[0]?.toLowerCase()}${rpc.method.slice(1)}`;
      return new RegExp(`\\.${name}\\(|['"]${name}['"]`).test(source);
    })
    .map((rpc) => rpc.path);
}

/**
 * What `istioctl analyze` checks only against a live cluster: each Gateway's
 * selector matches the installed ingress gateway's pods, and that gateway's
 * Service exposes every server port.
 */
export function gatewayProblems(
  objects: readonly K8sObject[],
  cluster: readonly K8sObject[],
): string[] {
  const problems: string[] = [];
  for (const gateway of ofKind(objects, 'Gateway')) {
    const selector = labels(gateway, 'spec', 'selector');
    const pods = ofKind(cluster, 'Deployment').filter((d) =>
      selects(selector, labels(d, 'spec', 'template', 'metadata', 'labels')),
    );
    if (pods.length === 0) {
      problems.push(
        `Gateway ${gateway.metadata.name}: no installed gateway has ${JSON.stringify(selector)}`,
      );
      continue;
    }
    const ports = ofKind(cluster, 'Service')
      .filter((s) =>
        pods.some((d) =>
          selects(
            labels(s, 'spec', 'selector'),
            labels(d, 'spec', 'template', 'metadata', 'labels'),
          ),
        ),
      )
      .flatMap((s) => list(s, 'spec', 'ports').map((p) => get(p, 'port')));
    for (const server of list(gateway, 'spec', 'servers')) {
      const port = get(server, 'port', 'number');
      if (!ports.includes(port)) {
        problems.push(
          `Gateway ${gateway.metadata.name}: the ingress gateway Service has no port ${port}`,
        );
      }
    }
  }
  return problems;
}
