// Checks on the ingress gateway as the API gateway (docs/gateway.md): who may
// call what, the token rules, the rate limits and the access log, over
// rendered objects and the installed mesh config. Each returns the problems
// it finds (empty when all is well), as checks.ts does.
import { createPublicKey } from 'node:crypto';
import { labIssuer, labKey, labKid } from '../../scripts/lib/lab-token.js';
import { gatewaySubjectHeader } from '../../services/product/gateway-subject.js';
import { rpcs } from './checks.js';
import { gatewayEnvoyFilters, gatewayHttpFilterChain } from './envoy-filters.js';
import { get, type K8sObject, labels, list, ofKind, text } from './manifests.js';
import { overlayLineage } from './tools.js';

/** The methods anyone may call through the gateway, without a token. */
export const publicGatewayMethods = [
  '/shop.user.v1.UserService/CreateUser',
  '/shop.product.v1.ProductService/GetProduct',
  '/shop.product.v1.ProductService/ListProducts',
];
/** The methods the gateway passes only with a valid token. */
export const tokenGatewayMethods = ['/shop.product.v1.ProductService/CreateProduct'];

/** What the gateway's access line must hold (mesh/istio-install.yaml, `gateway-json`). */
export const accessLogFields: Record<string, string> = {
  path: '%REQ(:PATH)%',
  grpc_status: '%GRPC_STATUS%',
  http_status: '%RESPONSE_CODE%',
  duration_ms: '%DURATION%',
  bytes_received: '%BYTES_RECEIVED%',
  bytes_sent: '%BYTES_SENT%',
  upstream_cluster: '%UPSTREAM_CLUSTER_RAW%',
  request_id: '%REQ(X-REQUEST-ID)%',
  trace_id: '%TRACE_ID%',
  subject: `%REQ(${gatewaySubjectHeader.toUpperCase()})%`,
};

const onGateway = (o: K8sObject) =>
  o.metadata.namespace === 'istio-system' &&
  labels(o, 'spec', 'selector', 'matchLabels').istio === 'ingressgateway';

/** Whether a rule needs a verified token (a requestPrincipals source). */
const needsToken = (rule: unknown) =>
  list(rule, 'from').some((f) => list(f, 'source', 'requestPrincipals').length > 0);

/** The gateway's AuthorizationPolicy allows exactly the public methods, and CreateProduct with a token. */
export function gatewayAuthorizationProblems(objects: readonly K8sObject[]): string[] {
  const policies = ofKind(objects, 'AuthorizationPolicy').filter(onGateway);
  if (policies.length !== 1)
    return [`${policies.length} AuthorizationPolicies on the gateway, not 1`];
  const policy = policies[0] as K8sObject;
  const problems: string[] = [];
  if ((text(policy, 'spec', 'action') ?? 'ALLOW') !== 'ALLOW') problems.push('not an ALLOW policy');
  const rules = list(policy, 'spec', 'rules');
  const paths = (token: boolean) =>
    rules
      .filter((r) => needsToken(r) === token)
      .flatMap((r) => list(r, 'to').flatMap((t) => list(t, 'operation', 'paths').map(String)))
      .sort();
  const open = paths(false);
  const closed = paths(true);
  if (JSON.stringify(open) !== JSON.stringify([...publicGatewayMethods].sort()))
    problems.push(`public without a token: ${open.join(', ')}`);
  if (JSON.stringify(closed) !== JSON.stringify(tokenGatewayMethods))
    problems.push(`with a token: ${closed.join(', ')}`);
  return problems;
}

/** The gateway's RequestAuthentication: one rule, no token forwarded, the subject header the service reads. */
export function gatewayAuthenticationProblems(
  objects: readonly K8sObject[],
  overlay: string,
): string[] {
  const found = ofKind(objects, 'RequestAuthentication').filter(onGateway);
  if (found.length !== 1) return [`${found.length} RequestAuthentications on the gateway, not 1`];
  const rules = list(found[0], 'spec', 'jwtRules');
  const problems: string[] = [];
  if (rules.length !== 1) problems.push(`${rules.length} jwtRules, not 1`);
  const rule = rules[0];
  const issuer = text(rule, 'issuer') ?? '';
  if (get(rule, 'forwardOriginalToken') !== false)
    problems.push('forwards the token to the services');
  const headers = list(rule, 'outputClaimToHeaders');
  if (
    headers.length !== 1 ||
    text(headers[0], 'claim') !== 'sub' ||
    text(headers[0], 'header') !== gatewaySubjectHeader
  )
    problems.push(`outputClaimToHeaders is not sub → ${gatewaySubjectHeader}`);
  const jwks = text(rule, 'jwks');
  const { n } = createPublicKey(labKey()).export({ format: 'jwk' });
  if (overlayLineage(overlay).includes('lab')) {
    if (issuer !== labIssuer) problems.push(`the lab's issuer is ${issuer}, not ${labIssuer}`);
    const keys = jwks ? (JSON.parse(jwks) as { keys: { kid?: string; n?: string }[] }).keys : [];
    if (keys.length !== 1 || keys[0]?.n !== n || keys[0]?.kid !== labKid)
      problems.push("the lab's JWKS is not the public half of k8s/overlays/lab/jwt's key");
  } else {
    // The lab key is published: nothing but the lab may trust it.
    if (issuer === labIssuer) problems.push(`names the lab's issuer ${labIssuer}`);
    if (jwks?.includes(String(n))) problems.push("trusts the lab's published key");
    if (!jwks && !/^https:\/\//.test(text(rule, 'jwksUri') ?? ''))
      problems.push('no inline jwks and no https jwksUri');
  }
  return problems;
}

/** Tokens a second of an Envoy token bucket. */
const bucketRate = (bucket: unknown) =>
  Number(get(bucket, 'tokens_per_fill')) / Number.parseFloat(text(bucket, 'fill_interval') ?? '');

/** A local rate limit that is on, and answers a gRPC caller RESOURCE_EXHAUSTED with retry-after. */
function limitedAnswerProblems(config: unknown): string[] {
  const problems: string[] = [];
  for (const key of ['filter_enabled', 'filter_enforced']) {
    const value = get(config, key, 'default_value');
    if (get(value, 'numerator') !== 100 || text(value, 'denominator') !== 'HUNDRED')
      problems.push(`${key} is not 100%`);
  }
  if (get(config, 'rate_limited_as_resource_exhausted') !== true)
    problems.push('a gRPC call over the limit gets UNAVAILABLE, not RESOURCE_EXHAUSTED');
  const headers = list(config, 'response_headers_to_add').map((h) => text(h, 'header', 'key'));
  if (!headers.includes('retry-after')) problems.push('no retry-after on a limited answer');
  return problems;
}

/** The per-user limit (mesh/gateway-filters.yaml, 4): a bucket per verified subject for CreateProduct. */
export function gatewaySubjectRateLimitProblems(objects: readonly K8sObject[]): string[] {
  const chain = gatewayHttpFilterChain(objects);
  const at = chain.findIndex((f) => f.name === 'shop.subject-rate-limit');
  const filter = chain[at];
  if (!filter) return ['no per-user rate limit (shop.subject-rate-limit) on the gateway'];
  const config = filter.typedConfig;
  const problems = limitedAnswerProblems(config);
  // Only behind jwt_authn is the subject header the verified one (the strip
  // filter removed the client's), and before RBAC, which decides on it.
  const jwt = chain.findIndex((f) => f.name === 'envoy.filters.http.jwt_authn');
  const rbac = chain.findIndex((f) => f.name === 'envoy.filters.http.rbac');
  if (!(jwt >= 0 && jwt < at && at < rbac))
    problems.push('the per-user limit does not run between jwt_authn and RBAC');
  // Without a default bucket, calls without a subject are not limited here.
  if (get(config, 'token_bucket') !== undefined)
    problems.push('the per-user limit has a default bucket: it would limit anonymous calls too');
  const keys = new Map(
    list(config, 'rate_limits')
      .flatMap((r) => list(r, 'actions'))
      .map((a) => [
        text(a, 'request_headers', 'descriptor_key'),
        text(a, 'request_headers', 'header_name'),
      ]),
  );
  const descriptor = list(config, 'descriptors').find((d) =>
    list(d, 'entries').some((e) => text(e, 'value') === tokenGatewayMethods[0]),
  );
  const entries = list(descriptor, 'entries');
  const pathEntry = entries.find((e) => text(e, 'value') === tokenGatewayMethods[0]);
  const subjectEntry = entries.find((e) => keys.get(text(e, 'key')) === gatewaySubjectHeader);
  if (!descriptor || keys.get(text(pathEntry, 'key')) !== ':path')
    problems.push(`no per-user bucket for ${tokenGatewayMethods[0]} chosen by :path`);
  if (!subjectEntry || (text(subjectEntry, 'value') ?? '') !== '')
    problems.push(
      `the bucket is not per ${gatewaySubjectHeader} value (an entry with an empty value)`,
    );
  const perUser = bucketRate(get(descriptor, 'token_bucket'));
  const shared = gatewayRateLimitConfigs(objects)
    .flatMap((c) => list(c, 'descriptors'))
    .find((d) => text(d, 'entries', 0, 'value') === tokenGatewayMethods[0]);
  if (!(perUser > 0 && perUser < bucketRate(get(shared, 'token_bucket'))))
    problems.push(`a user's ${perUser}/s is not below the gateway's shared CreateProduct bucket`);
  if (!(Number(get(config, 'max_dynamic_descriptors')) >= 1000))
    problems.push('max_dynamic_descriptors under 1000: buckets of active users would be evicted');
  return problems;
}

/** The gRPC code of each HTTP status the gateway answers itself, as a JSON caller gets it. */
export const gatewayJsonReplyCodes: Record<number, number> = {
  400: 3,
  401: 16,
  403: 7,
  404: 5,
  413: 8,
  429: 8,
  503: 14,
  504: 4,
};

/**
 * The gateway's local replies (mesh/gateway-filters.yaml, 3): a JSON body with
 * the right code for each status a JSON caller can get, and only for JSON
 * callers (a gRPC caller's grpc-message would otherwise be the JSON text).
 */
export function gatewayLocalReplyProblems(objects: readonly K8sObject[]): string[] {
  const mappers = gatewayEnvoyFilters(objects)
    .flatMap((f) => list(f, 'spec', 'configPatches'))
    .filter((p) => text(p, 'applyTo') === 'NETWORK_FILTER')
    .flatMap((p) =>
      list(get(p, 'patch', 'value', 'typed_config'), 'local_reply_config', 'mappers'),
    );
  const problems: string[] = [];
  const covered = new Map<number, number>();
  for (const [index, mapper] of mappers.entries()) {
    const format = get(mapper, 'body_format_override', 'json_format');
    if (format === undefined) continue;
    const filters = list(mapper, 'filter', 'and_filter', 'filters');
    const jsonCaller = filters.some((f) => {
      const alternatives = list(f, 'or_filter', 'filters').map((a) =>
        get(a, 'header_filter', 'header'),
      );
      return (
        alternatives.some(
          (h) => text(h, 'name') === 'x-envoy-original-path' && get(h, 'present_match') === true,
        ) &&
        alternatives.some(
          (h) => text(h, 'name') === ':path' && text(h, 'string_match', 'prefix') === '/v1/',
        )
      );
    });
    if (!jsonCaller) problems.push(`local reply mapper ${index} writes JSON for gRPC callers too`);
    const status = Number(
      get(mapper, 'status_code') ??
        get(
          filters.find((f) => get(f, 'status_code_filter') !== undefined),
          'status_code_filter',
          'comparison',
          'value',
          'default_value',
        ),
    );
    if (get(format, 'message') !== '%LOCAL_REPLY_BODY%')
      problems.push(`local reply mapper ${index}: message is not %LOCAL_REPLY_BODY%`);
    if (!covered.has(status)) covered.set(status, Number(get(format, 'code')));
  }
  for (const [status, code] of Object.entries(gatewayJsonReplyCodes)) {
    const got = covered.get(Number(status));
    if (got === undefined) problems.push(`a JSON caller's ${status} is not JSON`);
    else if (got !== code) problems.push(`a JSON caller's ${status} has code ${got}, not ${code}`);
  }
  return problems;
}

/** The typed configs of the gateway's per-route local rate limit filters. */
function gatewayRateLimitConfigs(objects: readonly K8sObject[]): unknown[] {
  return gatewayEnvoyFilters(objects)
    .flatMap((f) => list(f, 'spec', 'configPatches'))
    .map((p) => get(p, 'patch', 'value'))
    .filter((v) => text(v, 'name') === 'envoy.filters.http.local_ratelimit')
    .map((v) => get(v, 'typed_config'));
}

/** The gateway's local rate limit (mesh/gateway-filters.yaml): every route limited, gRPC-friendly answers. */
export function gatewayRateLimitProblems(objects: readonly K8sObject[]): string[] {
  const limits = gatewayRateLimitConfigs(objects);
  if (limits.length !== 1)
    return [`${limits.length} local rate limit filters on the gateway, not 1`];
  const config = limits[0];
  const problems = limitedAnswerProblems(config);
  // A default bucket limits every method no descriptor names: every route.
  const defaultRate = bucketRate(get(config, 'token_bucket'));
  if (!(defaultRate > 0)) problems.push('no default token bucket: some routes are not limited');
  const actions = list(config, 'rate_limits').flatMap((r) => list(r, 'actions'));
  if (!actions.some((a) => text(a, 'request_headers', 'header_name') === ':path'))
    problems.push('descriptors are not chosen by :path');
  const known = new Set(rpcs().map((r) => r.path));
  const rates = new Map<string, number>();
  for (const descriptor of list(config, 'descriptors')) {
    const path = text(descriptor, 'entries', 0, 'value') ?? '';
    if (!known.has(path)) problems.push(`rate limit for ${path}, which is not an RPC`);
    rates.set(path, bucketRate(get(descriptor, 'token_bucket')));
  }
  const signUp = rates.get('/shop.user.v1.UserService/CreateUser');
  if (signUp === undefined || !(signUp < defaultRate))
    problems.push(
      `CreateUser's limit (${signUp}/s) is not stricter than the reads' (${defaultRate}/s)`,
    );
  // The client's own subject header goes first, before anything reads it.
  const first = gatewayHttpFilterChain(objects)[0];
  const removed = list(first?.typedConfig, 'mutations', 'request_mutations').map((m) =>
    text(m, 'remove'),
  );
  if (!removed.includes(gatewaySubjectHeader))
    problems.push(`${gatewaySubjectHeader} is not removed by the gateway's first filter`);
  return problems;
}

/** The gateway's access log: a provider the mesh config defines, with every field, and no credentials. */
export function gatewayAccessLogProblems(
  objects: readonly K8sObject[],
  meshConfig: unknown,
): string[] {
  const problems: string[] = [];
  const providers = list(meshConfig, 'extensionProviders');
  const telemetries = ofKind(objects, 'Telemetry').filter(onGateway);
  const names = telemetries.flatMap((t) =>
    list(t, 'spec', 'accessLogging').flatMap((a) =>
      list(a, 'providers').map((p) => text(p, 'name')),
    ),
  );
  if (names.length === 0) problems.push('no Telemetry turns on the gateway access log');
  for (const name of names) {
    const provider = providers.find((p) => text(p, 'name') === name);
    const fields = get(provider, 'envoyFileAccessLog', 'logFormat', 'labels');
    if (!provider || typeof fields !== 'object' || fields === null) {
      problems.push(`access log provider ${name}: not a JSON file log in the mesh config`);
      continue;
    }
    for (const [field, value] of Object.entries(accessLogFields)) {
      if ((fields as Record<string, unknown>)[field] !== value)
        problems.push(`access log provider ${name}: ${field} is not ${value}`);
    }
    for (const [field, value] of Object.entries(fields)) {
      if (/AUTHORIZATION|COOKIE|EMAIL|USERNAME|REQUEST_BODY/i.test(String(value)))
        problems.push(`access log provider ${name}: ${field} logs ${value}`);
    }
  }
  return problems;
}
