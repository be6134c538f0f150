// Checks on HTTP/JSON at the gateway (docs/gateway.md): the generated
// transcoder EnvoyFilter (mesh/gateway-transcoder.yaml) against a fresh
// build of proto/, its place in the gateway's filter chain, and the
// google.api.http bindings themselves. Each returns the problems it finds
// (empty when all is well), as checks.ts does.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { DescField, DescMessage } from '@bufbuild/protobuf';
import {
  type HttpBinding,
  httpBindings,
  rateLimitFilterName,
  registryOf,
  transcodedServices,
  transcoderDescriptorSet,
  transcoderFilterName,
} from '../../scripts/lib/gateway-transcoder.js';
import { rpcs } from './checks.js';
import { gatewayHttpFilterChain } from './envoy-filters.js';
import { publicGatewayMethods, tokenGatewayMethods } from './gateway.js';
import { get, type K8sObject, repoRoot, text } from './manifests.js';
import { effectiveRoutes, rootVirtualServices, routeFor } from './routes.js';

/**
 * Methods the gateway lets callers reach that have no HTTP binding, on
 * purpose, each with its reason. None today: every public method has one.
 */
export const notOverJson: Record<string, string> = {};

/** What `buf build` makes of proto/ now: the input of `npm run generate`. */
export function freshDescriptorSet(): Uint8Array {
  return execFileSync(
    join(repoRoot, 'node_modules/.bin/buf'),
    ['build', '--as-file-descriptor-set', '--output', '-'],
    { cwd: repoRoot, maxBuffer: 64 * 1024 * 1024 },
  );
}

/**
 * The gateway's transcoder: exactly one, fed by the descriptors proto/ makes
 * now and translating every service with a binding, errors as JSON, only
 * declared bindings; behind the subject strip and in front of the rate
 * limit, Istio's jwt_authn and RBAC; every binding's gRPC method routed by
 * the gateway's VirtualService.
 */
export function gatewayTranscoderProblems(
  objects: readonly K8sObject[],
  descriptorSet: Uint8Array,
): string[] {
  const chain = gatewayHttpFilterChain(objects);
  const names = chain.map((f) => f.name);
  const transcoders = chain.filter((f) => f.name === transcoderFilterName);
  if (transcoders.length !== 1) return [`${transcoders.length} transcoders on the gateway, not 1`];
  const config = transcoders[0]?.typedConfig;
  const problems: string[] = [];
  const expected = Buffer.from(transcoderDescriptorSet(descriptorSet)).toString('base64');
  if (text(config, 'proto_descriptor_bin') !== expected)
    problems.push(
      'the transcoder’s descriptor set is not what proto/ builds: run npm run generate',
    );
  const services = (get(config, 'services') as string[] | undefined) ?? [];
  const annotated = transcodedServices(registryOf(descriptorSet));
  if (annotated.length === 0) problems.push('no service in proto/ has a google.api.http binding');
  if (JSON.stringify([...services].sort()) !== JSON.stringify([...annotated].sort()))
    problems.push(`transcodes ${services.join(', ')}, not ${annotated.join(', ')}`);
  if (get(config, 'convert_grpc_status') !== true)
    problems.push('errors are not converted to JSON (convert_grpc_status)');
  if (get(config, 'auto_mapping') === true)
    problems.push('auto_mapping exposes methods without a binding');
  if (get(config, 'request_validation_options', 'reject_unknown_method') !== true)
    problems.push('a JSON request to an unknown path is passed on as if it were gRPC');
  // Everything that reads `:path` or the caller's identity must see the
  // transcoded request: the rate limit's buckets, jwt_authn's subject header
  // for the owner check, RBAC's gRPC paths.
  const at = names.indexOf(transcoderFilterName);
  if (names[0] === transcoderFilterName || at > names.indexOf(rateLimitFilterName))
    problems.push(`the transcoder is not between the subject strip and the rate limit: ${names}`);
  for (const after of ['envoy.filters.http.jwt_authn', 'envoy.filters.http.rbac']) {
    if (!(at < names.indexOf(after))) problems.push(`the transcoder is not before ${after}`);
  }
  const gateway = rootVirtualServices(objects).find((vs) => vs.metadata.name === 'shop-gateway');
  const routes = gateway ? effectiveRoutes(gateway, objects) : [];
  for (const path of new Set(bindingsOf(descriptorSet).map((b) => b.grpcPath))) {
    if (!routeFor(routes, { path, headers: {} }))
      problems.push(`the gateway routes no ${path}: its JSON binding would answer 404`);
  }
  return problems;
}

/** The HTTP bindings of a descriptor set. */
export const bindingsOf = (descriptorSet: Uint8Array) => httpBindings(registryOf(descriptorSet));

/** A field path (`id`, `price.currency_code`) in a message, by proto name. */
function fieldAt(message: DescMessage, path: string): DescField | undefined {
  let current: DescMessage | undefined = message;
  let field: DescField | undefined;
  for (const name of path.split('.')) {
    field = current?.fields.find((f) => f.name === name);
    current = field?.fieldKind === 'message' ? field.message : undefined;
  }
  return field;
}

/** `{id}` and `{name=shelves/*}` variables of a URL template. */
const variables = (template: string) =>
  [...template.matchAll(/\{([^}=]+)(?:=[^}]*)?\}/g)].map((m) => m[1] as string);

/**
 * The bindings follow AIP-127 and can all be reached: each is on a unary
 * method the services serve, under /v1/; its path variables are scalar
 * fields of the request; creates (POST) take the whole request as the body,
 * reads (GET) have none and every other field of theirs can be a query
 * parameter; no two bindings share a verb and template; and every method the
 * gateway lets callers reach has one, unless notOverJson says why not.
 */
export function httpBindingProblems(bindings: readonly HttpBinding[]): string[] {
  const problems: string[] = [];
  const served = new Set(rpcs().map((r) => r.path));
  const seen = new Set<string>();
  for (const b of bindings) {
    const where = `${b.verb.toUpperCase()} ${b.template} (${b.grpcPath})`;
    if (!served.has(b.grpcPath)) problems.push(`${where}: no such RPC in the services`);
    if (b.method.methodKind !== 'unary') problems.push(`${where}: not a unary method`);
    if (!b.template.startsWith('/v1/')) problems.push(`${where}: not under /v1/`);
    const key = `${b.verb} ${b.template}`;
    if (seen.has(key)) problems.push(`${where}: a second binding for ${key}`);
    seen.add(key);
    const input = b.method.input;
    const inPath = variables(b.template);
    for (const name of inPath) {
      const field = fieldAt(input, name);
      if (!field) problems.push(`${where}: {${name}} is no field of ${input.typeName}`);
      else if (field.fieldKind !== 'scalar' && field.fieldKind !== 'enum')
        problems.push(`${where}: {${name}} is not a scalar field`);
    }
    if (b.verb === 'post' && b.body !== '*')
      problems.push(`${where}: a create takes the request as its body ("*"), not "${b.body}"`);
    if (b.verb === 'get') {
      if (b.body !== '') problems.push(`${where}: a GET has no body`);
      for (const field of input.fields) {
        if (inPath.includes(field.name)) continue;
        const element = field.fieldKind === 'list' ? field.listKind : field.fieldKind;
        if (element !== 'scalar' && element !== 'enum')
          problems.push(`${where}: ${field.name} cannot be a query parameter`);
      }
    }
  }
  const bound = new Set(bindings.map((b) => b.grpcPath));
  for (const path of [...publicGatewayMethods, ...tokenGatewayMethods]) {
    if (!bound.has(path) && !(path in notOverJson))
      problems.push(`${path} is reachable through the gateway but has no HTTP binding`);
  }
  return problems;
}
