/**
 * What an access token may carry and what each scope allows. Tokens are ES256 JWTs
 * issued by the user-service and verified by the order-service against its JWKS.
 */
export const ACCESS_TOKEN_ALGORITHM = 'ES256'
/** Audience of every access token: the platform's APIs. */
export const ACCESS_TOKEN_AUDIENCE = 'order-platform'
/**
 * 15 minutes: short enough that a leaked token is soon worthless. Tokens are revoked earlier
 * through a denylist of their `jti` (doc/security.md, "Revoking access tokens"); this bounds
 * what a verifier that missed a revocation lets through.
 */
export const ACCESS_TOKEN_TTL_SECONDS = 900

export const SCOPES = {
  /** A signed-in person: their own account and their own orders. */
  user: 'orders',
  /** A service that moves orders through the state machine (the order-processor). */
  orderStatusWrite: 'orders:status'
} as const
export type Scope = (typeof SCOPES)[keyof typeof SCOPES]

/** The claims every access token carries, as a verifier sees them. */
export interface AccessTokenClaims {
  /** An account id (a person) or the client_id (a service). */
  sub: string
  /** Space-separated scopes (RFC 6749 §3.3). */
  scope?: string
  /** Only on a service's token, from the client-credentials grant. */
  client_id?: string
  iss: string
  aud: string
  /** Seconds since the epoch. */
  exp: number
  /** A unique id (RFC 9068 §2.2): what a revocation names. */
  jti: string
  /** Only on a person's token: the session (refresh token family) it was issued in. */
  sid?: string
}

export function hasScope (scopeClaim: unknown, scope: Scope): boolean {
  return typeof scopeClaim === 'string' && scopeClaim.split(' ').includes(scope)
}

/** `iss` of every access token; verifiers pin it. */
export const ACCESS_TOKEN_ISSUER = 'urn:order-platform:user-service'
