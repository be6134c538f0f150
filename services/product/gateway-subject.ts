import type { Metadata } from '@grpc/grpc-js';

/**
 * The header the ingress gateway sets to the `sub` claim of the JWT it
 * verified (mesh/gateway-authentication.yaml, `outputClaimToHeaders`). The
 * gateway removes any copy a client sends before it verifies the token
 * (mesh/gateway-filters.yaml), so behind the gateway the header is there
 * only for a verified token, and holds that token's subject.
 */
export const gatewaySubjectHeader = 'x-shop-subject';

/**
 * The verified subject the gateway passed on, or undefined when the call did
 * not come through the gateway with a token (in-mesh callers, `npm start`).
 * Only ProductService's AuthorizationPolicy lets the gateway call
 * CreateProduct, so no other caller can set it on a create.
 */
export function gatewaySubject(metadata: Metadata): string | undefined {
  const value = metadata.get(gatewaySubjectHeader).at(-1);
  return typeof value === 'string' && value !== '' ? value : undefined;
}
