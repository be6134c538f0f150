// The ingress gateway's gRPC-JSON transcoder (docs/gateway.md), made from the
// descriptor set buf builds from proto/, the same bytes server reflection
// serves (services/gen/descriptor_set.pb.ts). `npm run generate` writes it to
// mesh/gateway-transcoder.yaml; test/k8s/gateway-transcoder.test.ts fails when
// that file is not what proto/ makes now, and test/e2e/json-gateway.test.ts
// runs the file's filter config in a real Envoy.
//
// Generated, not hand-written and checked: the filter must carry the
// descriptors themselves (base64 of a FileDescriptorSet), which nobody can
// review or edit by hand, and which services it transcodes follows from the
// protos (every service with a google.api.http option), so there is nothing
// left to decide by hand that a check would only repeat.
import {
  clone,
  create,
  createFileRegistry,
  type DescMethod,
  type FileRegistry,
  fromBinary,
  getOption,
  hasOption,
  toBinary,
} from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { stringify } from 'yaml';
import { errorDetailFiles } from '../../services/shared/grpc/error-detail-files.js';
import { defaultServerLimits } from '../../services/shared/grpc/server-limits.js';

/** The committed output, relative to the repository. */
export const transcoderFile = 'mesh/gateway-transcoder.yaml';
export const transcoderFilterName = 'envoy.filters.http.grpc_json_transcoder';
export const transcoderEnvoyFilterName = 'shop-gateway-transcoder';
/** The filter the transcoder goes in front of (mesh/gateway-filters.yaml). */
export const rateLimitFilterName = 'envoy.filters.http.local_ratelimit';

export type HttpVerb = 'get' | 'put' | 'post' | 'delete' | 'patch';

/** One google.api.http binding of a method (its rule or one of its additional_bindings). */
export interface HttpBinding {
  method: DescMethod;
  /** `/shop.user.v1.UserService/CreateUser`: what the transcoded request is routed by. */
  grpcPath: string;
  verb: HttpVerb;
  /** The URL template, e.g. `/v1/users/{id}`. */
  template: string;
  /** `*`, a field name, or empty (no body: the fields not in the path are query parameters). */
  body: string;
}

interface HttpRuleShape {
  pattern: { case: string | undefined; value?: unknown };
  body: string;
  additionalBindings: HttpRuleShape[];
}

export const registryOf = (descriptorSet: Uint8Array): FileRegistry =>
  createFileRegistry(fromBinary(FileDescriptorSetSchema, descriptorSet));

/** Every HTTP binding in the descriptor set, in file and method order. */
export function httpBindings(registry: FileRegistry): HttpBinding[] {
  const http = registry.getExtension('google.api.http');
  if (!http) return [];
  const out: HttpBinding[] = [];
  for (const type of registry) {
    if (type.kind !== 'service') continue;
    for (const method of type.methods) {
      if (!hasOption(method, http)) continue;
      const rule = getOption(method, http) as unknown as HttpRuleShape;
      for (const r of [rule, ...rule.additionalBindings]) {
        const { case: verb, value } = r.pattern;
        if (verb === undefined || verb === 'custom' || typeof value !== 'string') {
          throw new Error(
            `${method.parent.typeName}/${method.name}: unsupported HTTP rule ${verb}`,
          );
        }
        out.push({
          method,
          grpcPath: `/${type.typeName}/${method.name}`,
          verb: verb as HttpVerb,
          template: value,
          body: r.body,
        });
      }
    }
  }
  return out;
}

/** The services the transcoder translates: every one with an HTTP binding. */
export function transcodedServices(registry: FileRegistry): string[] {
  return [...new Set(httpBindings(registry).map((b) => b.method.parent.typeName))];
}

/**
 * What Envoy is given: the files of the transcoded services, the error
 * detail types (convert_grpc_status prints a google.rpc.Status with its
 * details as JSON, so their types must be in the pool) and everything those
 * import, in buf's order (a file after its imports, as Envoy's descriptor
 * pool needs), without source info (comments: four fifths of the bytes, of
 * no use to Envoy).
 */
export function transcoderDescriptorSet(descriptorSet: Uint8Array): Uint8Array {
  const set = fromBinary(FileDescriptorSetSchema, descriptorSet);
  const registry = createFileRegistry(set);
  const needed = new Set<string>();
  const visit = (name: string) => {
    if (needed.has(name)) return;
    needed.add(name);
    const file = registry.getFile(name);
    if (!file) throw new Error(`${name} is not in the descriptor set`);
    for (const dependency of file.dependencies) visit(dependency.proto.name);
  };
  for (const service of transcodedServices(registry)) {
    const file = registry.getService(service)?.file;
    if (file) visit(file.proto.name);
  }
  for (const name of errorDetailFiles) visit(name);
  const files = set.file
    .filter((f) => needed.has(f.name))
    .map((f) => {
      const copy = clone(FileDescriptorProtoSchema, f);
      copy.sourceCodeInfo = undefined;
      return copy;
    });
  return toBinary(FileDescriptorSetSchema, create(FileDescriptorSetSchema, { file: files }));
}

/** The filter's typed_config (envoy.extensions.filters.http.grpc_json_transcoder.v3). */
export function transcoderConfig(descriptorSet: Uint8Array): Record<string, unknown> {
  return {
    '@type':
      'type.googleapis.com/envoy.extensions.filters.http.grpc_json_transcoder.v3.GrpcJsonTranscoder',
    services: transcodedServices(registryOf(descriptorSet)),
    // Errors as JSON: the google.rpc.Status from grpc-status-details-bin,
    // details included, with the HTTP status of its gRPC code.
    convert_grpc_status: true,
    // Only the bindings the protos declare; no POST /<service>/<method> for
    // the methods without one (auto_mapping stays off).
    request_validation_options: {
      // A JSON request that maps to no binding is answered 404 here, not
      // sent on as if it were gRPC; gRPC requests pass through untouched.
      reject_unknown_method: true,
      // A misspelt query parameter (`?pagesize=`) is a 400, not a 404.
      reject_unknown_query_parameters: true,
      reject_binding_body_field_collisions: true,
    },
    // No JSON body of ours is near this; the services refuse a larger
    // protobuf message anyway (GRPC_MAX_RECEIVE_MESSAGE_SIZE's default).
    max_request_body_size: defaultServerLimits.maxReceiveMessageBytes,
    proto_descriptor_bin: Buffer.from(transcoderDescriptorSet(descriptorSet)).toString('base64'),
  };
}

/** mesh/gateway-transcoder.yaml, as `npm run generate` writes it. */
export function transcoderYaml(descriptorSet: Uint8Array): string {
  const filter = {
    apiVersion: 'networking.istio.io/v1alpha3',
    kind: 'EnvoyFilter',
    metadata: { name: transcoderEnvoyFilterName, namespace: 'istio-system' },
    spec: {
      workloadSelector: { labels: { istio: 'ingressgateway' } },
      // After shop-gateway's patches (priority 0), whose rate limit filter
      // this one is inserted in front of.
      priority: 10,
      configPatches: [
        {
          applyTo: 'HTTP_FILTER',
          match: {
            context: 'GATEWAY',
            listener: {
              filterChain: {
                filter: {
                  name: 'envoy.filters.network.http_connection_manager',
                  subFilter: { name: rateLimitFilterName },
                },
              },
            },
          },
          patch: {
            operation: 'INSERT_BEFORE',
            value: { name: transcoderFilterName, typed_config: transcoderConfig(descriptorSet) },
          },
        },
      ],
    },
  };
  return `${header}${stringify(filter, { lineWidth: 0 })}`;
}

const header = `# Code generated by scripts/generate.ts from proto/ (npm run generate). DO NOT EDIT.
#
# HTTP/JSON at the ingress gateway (docs/gateway.md): Envoy's gRPC-JSON
# transcoder turns a request such as \`POST /v1/users\` into the gRPC call of
# the method whose google.api.http option binds it, and the answer back into
# JSON (errors as a google.rpc.Status with its details, with the HTTP status
# of the gRPC code). It sits after the filter that strips x-shop-subject and
# before everything else of the gateway: the rate limit (buckets by gRPC
# :path), Istio's jwt_authn and RBAC (AuthorizationPolicy paths are gRPC
# paths) and the router all see the transcoded request, so a JSON caller is
# limited, authenticated, authorized and routed exactly as a gRPC caller of
# the same method is. The descriptors are proto/'s, built by buf.
`;
