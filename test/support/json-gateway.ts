// The ingress gateway's own filters in the pinned upstream Envoy
// (.tools/bin/envoy, tools/envoy/), without the mesh: the HTTP filters of
// mesh/gateway-filters.yaml and the generated mesh/gateway-transcoder.yaml,
// read from those files and put in the order istiod would put them
// (test/k8s/envoy-filters.ts), with the connection manager settings they
// merge in (local replies), routed by the path prefixes of
// mesh/gateway.yaml's VirtualService to services on this machine. Istio's
// own filters (jwt_authn, RBAC, stats) are not here: the mesh lab has them
// (test/mesh/gateway.test.ts).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Child, repo, spawnChild } from '../../scripts/lib/child-process.js';
import { freePort } from '../../scripts/lib/free-port.js';
import { transcoderFile } from '../../scripts/lib/gateway-transcoder.js';
import { gatewayEnvoyFilters, gatewayHttpFilterChain } from '../k8s/envoy-filters.js';
import { get, list, named, parseObjects, text } from '../k8s/manifests.js';

export const envoyPath = join(repo, '.tools/bin/envoy');

export interface JsonGateway {
  /** `http://127.0.0.1:<port>`: JSON and gRPC (h2c) on the same port, as the gateway. */
  url: string;
  /** `127.0.0.1:<port>`, for grpcurl. */
  address: string;
  envoy: Child;
  stop(): Promise<void>;
}

const meshObjects = (...files: string[]) =>
  files.flatMap((file) => parseObjects(readFileSync(join(repo, file), 'utf8')));

function cluster(name: string, address: string) {
  const [host, port] = address.split(':');
  return {
    name,
    type: 'STATIC',
    connect_timeout: '1s',
    // gRPC upstream: HTTP/2 whatever the caller spoke, as Istio's cluster
    // for a port with appProtocol grpc.
    typed_extension_protocol_options: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
        explicit_http_config: { http2_protocol_options: {} },
      },
    },
    load_assignment: {
      cluster_name: name,
      endpoints: [
        {
          lb_endpoints: [
            {
              endpoint: {
                address: { socket_address: { address: host, port_value: Number(port) } },
              },
            },
          ],
        },
      ],
    },
  };
}

/** Starts Envoy in front of the two services; resolves once its listener is ready. */
export async function startJsonGateway(upstreams: {
  user: string;
  product: string;
}): Promise<JsonGateway> {
  if (!existsSync(envoyPath))
    throw new Error(`${envoyPath} is missing: run scripts/install-tools.sh envoy`);
  const objects = meshObjects('mesh/gateway-filters.yaml', transcoderFile, 'mesh/gateway.yaml');
  // The connection manager's own settings the gateway's EnvoyFilters merge
  // in (NETWORK_FILTER patches: the local replies' mappers).
  const managerPatches = gatewayEnvoyFilters(objects)
    .flatMap((o) => list(o, 'spec', 'configPatches'))
    .filter(
      (p) => text(p, 'applyTo') === 'NETWORK_FILTER' && text(p, 'patch', 'operation') === 'MERGE',
    )
    .map((p) => {
      const { '@type': _, ...fields } = get(p, 'patch', 'value', 'typed_config') as Record<
        string,
        unknown
      >;
      return fields;
    });
  const filters = gatewayHttpFilterChain(objects)
    .filter((f) => f.typedConfig !== undefined)
    .map((f) => ({ name: f.name, typed_config: f.typedConfig }));
  // The gateway VirtualService's routes: a gRPC service's path prefix to the
  // service it delegates to (user-service-routes → user).
  const routes = list(named(objects, 'VirtualService', 'shop-gateway'), 'spec', 'http').map(
    (http) => ({
      match: { prefix: text(http, 'match', 0, 'uri', 'prefix') },
      route: { cluster: (text(http, 'delegate', 'name') ?? '').replace(/-service-routes$/, '') },
    }),
  );
  const [port, adminPort] = [await freePort(), await freePort()];
  const bootstrap = {
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: adminPort } } },
    static_resources: {
      listeners: [
        {
          name: 'gateway',
          address: { socket_address: { address: '127.0.0.1', port_value: port } },
          filter_chains: [
            {
              filters: [
                {
                  name: 'envoy.filters.network.http_connection_manager',
                  typed_config: {
                    '@type':
                      'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
                    ...Object.assign({}, ...managerPatches),
                    stat_prefix: 'gateway',
                    // HTTP/1.1 and h2c on one port, as istiod sets it for a gateway.
                    codec_type: 'AUTO',
                    route_config: {
                      virtual_hosts: [{ name: 'shop', domains: ['*'], routes }],
                    },
                    http_filters: [
                      ...filters,
                      {
                        name: 'envoy.filters.http.router',
                        typed_config: {
                          '@type':
                            'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
                        },
                      },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
      clusters: [cluster('user', upstreams.user), cluster('product', upstreams.product)],
    },
  };
  const envoy = spawnChild(
    'envoy',
    envoyPath,
    [
      ...['--config-yaml', JSON.stringify(bootstrap)],
      // No shared memory: other Envoys (the mesh lab's) may run on this machine.
      '--disable-hot-restart',
      ...['--concurrency', '1', '--log-level', 'warn'],
    ],
    { env: { PATH: process.env.PATH ?? '' } },
  );
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (!envoy.running)
      throw new Error(`envoy exited (${envoy.process.exitCode}):\n${envoy.tail()}`);
    const ready = await fetch(`http://127.0.0.1:${adminPort}/ready`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      await envoy.stop('SIGKILL');
      throw new Error(`envoy not ready in 20 s:\n${envoy.tail()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    address: `127.0.0.1:${port}`,
    envoy,
    async stop() {
      await envoy.stop();
    },
  };
}
