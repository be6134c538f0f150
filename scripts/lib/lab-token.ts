// Tokens for the mesh lab's gateway (docs/gateway.md): RS256 JWTs signed with
// the LAB-ONLY key in k8s/overlays/lab/jwt/, which the lab's gateway trusts
// and nothing else may. node:crypto only: a JWT is two base64url JSON parts
// and a signature.
import { createPrivateKey, type KeyObject, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const labIssuer = 'https://lab.shop.invalid';
export const labAudience = 'shop-api';
export const labKeyFile = join(
  import.meta.dirname,
  '../../k8s/overlays/lab/jwt/lab-only-signing-key.pem',
);

export interface LabTokenOptions {
  /** The `sub` claim: the caller's user id. */
  subject: string;
  /** Seconds until `exp`; negative for a token that has already expired. Default: 3600. */
  ttlSeconds?: number;
  /** Default: the lab's issuer. */
  issuer?: string;
  /** Default: the lab's key; another key makes a token the gateway must reject. */
  key?: KeyObject;
  /** Default: the lab key's kid (the JWKS in k8s/overlays/lab/gateway-authentication.yaml). */
  kid?: string;
}

const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export function labKey(): KeyObject {
  return createPrivateKey(readFileSync(labKeyFile, 'utf8'));
}

/** The kid the lab's JWKS gives its one key. */
export const labKid = 'NxjHtFPezY5xWjZR';

export function mintLabToken(options: LabTokenOptions): string {
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: 'RS256', typ: 'JWT', kid: options.kid ?? labKid };
  const claims = {
    iss: options.issuer ?? labIssuer,
    aud: labAudience,
    sub: options.subject,
    iat: now,
    exp: now + (options.ttlSeconds ?? 3600),
  };
  const signed = `${part(header)}.${part(claims)}`;
  const signature = sign('sha256', Buffer.from(signed), options.key ?? labKey());
  return `${signed}.${signature.toString('base64url')}`;
}
