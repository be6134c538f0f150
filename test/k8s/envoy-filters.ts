// The ingress gateway's HTTP filter chain as istiod builds it: Istio's own
// filters for a gateway with a RequestAuthentication and an
// AuthorizationPolicy (pilot/pkg/networking/core/listener_builder.go,
// Istio 1.31: authn, then authz, then gRPC stats, fault, CORS, the router;
// the Istio-only ones left out), then every gateway EnvoyFilter's HTTP_FILTER
// patches applied the way Istio orders them: by priority, then creation
// (document order here), each patch set in its own order. Order is what
// decides what a filter sees: the rate limit's `:path` and RBAC's paths are
// the transcoded gRPC path only behind the transcoder.
import { get, type K8sObject, labels, list, ofKind, text } from './manifests.js';

export interface ChainFilter {
  name: string;
  /** Ours (from an EnvoyFilter); Istio's own have none here. */
  typedConfig?: Record<string, unknown>;
}

/** What istiod puts in a gateway's chain itself, in its order. */
export const istioGatewayFilters = [
  'envoy.filters.http.jwt_authn',
  'envoy.filters.http.rbac',
  'envoy.filters.http.grpc_stats',
  'envoy.filters.http.fault',
  'envoy.filters.http.cors',
  'envoy.filters.http.router',
];

/** The EnvoyFilters on the ingress gateway, in the order Istio applies them. */
export function gatewayEnvoyFilters(objects: readonly K8sObject[]): K8sObject[] {
  return ofKind(objects, 'EnvoyFilter')
    .filter(
      (f) =>
        f.metadata.namespace === 'istio-system' &&
        labels(f, 'spec', 'workloadSelector', 'labels').istio === 'ingressgateway',
    )
    .map((f, index) => ({ f, index, priority: Number(get(f, 'spec', 'priority') ?? 0) }))
    .sort((a, b) => a.priority - b.priority || a.index - b.index)
    .map(({ f }) => f);
}

/** The gateway's HTTP filters, first to last, after every patch. */
export function gatewayHttpFilterChain(objects: readonly K8sObject[]): ChainFilter[] {
  const chain: ChainFilter[] = istioGatewayFilters.map((name) => ({ name }));
  for (const filter of gatewayEnvoyFilters(objects)) {
    for (const patch of list(filter, 'spec', 'configPatches')) {
      if (text(patch, 'applyTo') !== 'HTTP_FILTER') continue;
      if (text(patch, 'match', 'context') !== 'GATEWAY') continue;
      const value = get(patch, 'patch', 'value');
      const added: ChainFilter = {
        name: text(value, 'name') ?? '',
        typedConfig: get(value, 'typed_config') as Record<string, unknown>,
      };
      const sub = text(patch, 'match', 'listener', 'filterChain', 'filter', 'subFilter', 'name');
      const at = chain.findIndex((f) => f.name === sub);
      const operation = text(patch, 'patch', 'operation');
      // Like istiod, a patch whose subFilter is not in the chain does nothing.
      if (operation === 'INSERT_FIRST') chain.unshift(added);
      else if (operation === 'INSERT_BEFORE' && at >= 0) chain.splice(at, 0, added);
      else if (operation === 'INSERT_AFTER' && at >= 0) chain.splice(at + 1, 0, added);
      else if (operation === 'REMOVE' && at >= 0) chain.splice(at, 1);
      else if (!['INSERT_BEFORE', 'INSERT_AFTER', 'REMOVE', 'MERGE'].includes(operation ?? ''))
        throw new Error(`EnvoyFilter ${filter.metadata.name}: ${operation} is not modelled here`);
    }
  }
  return chain;
}
