// Which VirtualService route a gRPC call takes, as Istio decides it: the
// first HTTP route whose match (any of its entries, every condition of the
// entry) fits the request. Routes that delegate are expanded the way istiod
// merges them (pilot/pkg/model/virtualservice.go): the delegate's routes in
// place of the delegating one, each also bound by the root's match.
import { get, isObject, type K8sObject, list, ofKind, text } from './manifests.js';

export interface Request {
  path: string;
  headers: Record<string, string>;
}

export interface Destination {
  host: string;
  subset?: string;
  port?: number;
  weight?: number;
}

export interface Route {
  /** VirtualService (namespace/name) the route is written in. */
  source: string;
  name: string;
  /** Alternatives (OR); every StringMatch condition of one must hold (AND). */
  match: Record<string, unknown>[][];
  destinations: Destination[];
  timeout?: string;
  /** The `retries` block; absent means Istio's default policy, which retries. */
  retries?: Record<string, unknown>;
}

export function vsKey(vs: K8sObject): string {
  return `${vs.metadata.namespace ?? 'default'}/${vs.metadata.name}`;
}

function destinationsOf(route: unknown): Destination[] {
  return list(route, 'route').map((entry) => {
    const port = get(entry, 'destination', 'port', 'number');
    const weight = get(entry, 'weight');
    const subset = text(entry, 'destination', 'subset');
    return {
      host: text(entry, 'destination', 'host') ?? '',
      ...(subset === undefined ? {} : { subset }),
      ...(typeof port === 'number' ? { port } : {}),
      ...(typeof weight === 'number' ? { weight } : {}),
    };
  });
}

/** The routes written in one VirtualService, without following delegates. */
export function ownRoutes(vs: K8sObject): Route[] {
  return list(vs, 'spec', 'http').map((http, index) => {
    const retries = get(http, 'retries');
    const timeout = text(http, 'timeout');
    return {
      source: vsKey(vs),
      name: text(http, 'name') ?? `#${index}`,
      match: list(http, 'match').map((entry) => [entry as Record<string, unknown>]),
      destinations: destinationsOf(http),
      ...(timeout === undefined ? {} : { timeout }),
      ...(isObject(retries) ? { retries } : {}),
    };
  });
}

/** A root VirtualService's routes with every delegate expanded. */
export function effectiveRoutes(root: K8sObject, all: readonly K8sObject[]): Route[] {
  const namespace = root.metadata.namespace ?? 'default';
  return list(root, 'spec', 'http').flatMap((http, index) => {
    const delegate = get(http, 'delegate');
    if (!isObject(delegate)) return ownRoutes(root).slice(index, index + 1);
    const name = text(delegate, 'name');
    const target = ofKind(all, 'VirtualService').find(
      (vs) =>
        vs.metadata.name === name &&
        (vs.metadata.namespace ?? 'default') === (text(delegate, 'namespace') ?? namespace),
    );
    if (!target) throw new Error(`${vsKey(root)} delegates to missing VirtualService ${name}`);
    const rootMatch = list(http, 'match') as Record<string, unknown>[];
    return ownRoutes(target).map((route) => ({
      ...route,
      match: and(rootMatch, route.match),
    }));
  });
}

/** OR-of-ANDs for "root matches and delegate matches" (empty means match all). */
function and(
  root: Record<string, unknown>[],
  delegate: Record<string, unknown>[][],
): Record<string, unknown>[][] {
  if (root.length === 0) return delegate;
  if (delegate.length === 0) return root.map((entry) => [entry]);
  return root.flatMap((r) => delegate.map((d) => [r, ...d]));
}

/** Istio StringMatch: exact, prefix or (RE2, whole string) regex. */
function stringMatches(condition: unknown, value: string | undefined): boolean {
  if (value === undefined) return false;
  const exact = text(condition, 'exact');
  if (exact !== undefined) return value === exact;
  const prefix = text(condition, 'prefix');
  if (prefix !== undefined) return value.startsWith(prefix);
  const regex = text(condition, 'regex');
  if (regex !== undefined) return new RegExp(`^(?:${regex})$`).test(value);
  throw new Error(`unsupported StringMatch ${JSON.stringify(condition)}`);
}

const supported = new Set(['uri', 'headers', 'name']);

function entryMatches(entry: Record<string, unknown>, request: Request): boolean {
  for (const key of Object.keys(entry)) {
    if (!supported.has(key)) throw new Error(`route match on ${key} is not modelled by this test`);
  }
  if (entry.uri !== undefined && !stringMatches(entry.uri, request.path)) return false;
  const headers = isObject(entry.headers) ? entry.headers : {};
  return Object.entries(headers).every(([name, condition]) =>
    stringMatches(condition, request.headers[name.toLowerCase()]),
  );
}

export function routeFor(routes: readonly Route[], request: Request): Route | undefined {
  return routes.find(
    (route) =>
      route.match.length === 0 ||
      route.match.some((entry) => entry.every((condition) => entryMatches(condition, request))),
  );
}

/** Every header value some route matches on exactly, so each route can be reached. */
export function headerVariants(routes: readonly Route[]): Record<string, string>[] {
  const variants: Record<string, string>[] = [{}];
  for (const route of routes) {
    for (const entry of route.match.flat()) {
      if (!isObject(entry.headers)) continue;
      for (const [name, condition] of Object.entries(entry.headers)) {
        const exact = text(condition, 'exact');
        if (exact !== undefined) variants.push({ [name.toLowerCase()]: exact });
      }
    }
  }
  return variants;
}

/** Istio retries on its default policy (2 attempts) unless `attempts: 0`. */
export function retryAttempts(route: Route): number {
  if (!route.retries) return 2;
  const attempts = route.retries.attempts;
  return typeof attempts === 'number' ? attempts : 0;
}

/** VirtualServices that route traffic themselves (have hosts), as opposed to delegates. */
export function rootVirtualServices(objects: readonly K8sObject[]): K8sObject[] {
  return ofKind(objects, 'VirtualService').filter((vs) => list(vs, 'spec', 'hosts').length > 0);
}
