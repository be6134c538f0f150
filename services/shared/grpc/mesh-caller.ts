import type { Metadata } from '@grpc/grpc-js';

/**
 * What the sidecar in front of this service says about a call, for its
 * access line: who called (the SPIFFE identity of the client certificate the
 * sidecar verified, from `x-forwarded-client-cert`) and which attempt this is
 * (`x-envoy-attempt-count`, set by the caller's sidecar: 2 means the mesh
 * retried the call once). Both let an SRE answer "who is calling this" and
 * "is the mesh retrying" from the service's own logs.
 *
 * For logs only, never for decisions: outside the mesh (`npm start`) any
 * client can send these headers. In the mesh the sidecar overwrites or
 * appends its own element, which is why the last element is the one read,
 * and the AuthorizationPolicies in mesh/ decide who may call what.
 */
export interface MeshCaller {
  caller?: string;
  attempt?: number;
}

const maxIdentityLength = 256;

/** The last element of an XFCC header (elements are comma separated; commas inside quotes are not separators). */
function lastElement(header: string): string {
  let start = 0;
  let quoted = false;
  for (let i = 0; i < header.length; i++) {
    const c = header[i];
    if (c === '\\') i++;
    else if (c === '"') quoted = !quoted;
    else if (c === ',' && !quoted) start = i + 1;
  }
  return header.slice(start);
}

function spiffeUri(element: string): string | undefined {
  for (const pair of element.split(';')) {
    const eq = pair.indexOf('=');
    if (pair.slice(0, eq).trim().toLowerCase() !== 'uri') continue;
    const value = pair
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1');
    if (value.startsWith('spiffe://') && value.length <= maxIdentityLength) return value;
  }
  return undefined;
}

export function meshCaller(metadata: Metadata): MeshCaller {
  const out: MeshCaller = {};
  const xfcc = metadata.get('x-forwarded-client-cert').at(-1);
  if (typeof xfcc === 'string') {
    const caller = spiffeUri(lastElement(xfcc));
    if (caller) out.caller = caller;
  }
  const attempt = Number(metadata.get('x-envoy-attempt-count').at(-1));
  if (Number.isInteger(attempt) && attempt > 0 && attempt < 1000) out.attempt = attempt;
  return out;
}
