import { ACCESS_TOKEN_ALGORITHM, ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER, isUuid } from '@orders/contracts'

/** RFC 9068: the `typ` header of a JWT access token, so an ID token or another JWT is refused. */
export const ACCESS_TOKEN_TYPE = 'at+jwt'

/** How far an `iat` may lie in the future: clocks of two machines differ by a few seconds. */
export const CLOCK_SKEW_SECONDS = 30

/**
 * Tokens whose verification fast-jwt remembers, per signing key: about the tokens a replica
 * sees within their 15 minutes (a few MB). An entry is kept until its token's `exp` at most.
 */
export const VERIFIED_TOKEN_CACHE_SIZE = 10_000

/**
 * The verify options every verifier of access tokens passes to @fastify/jwt (fast-jwt): the
 * algorithm, issuer and audience pinned, `typ` checked, and every claim a decision rests on
 * required: without `requiredClaims`, fast-jwt checks `iss`, `aud` and `exp` only when present.
 *
 * `cache`: a token verified once is, until its `exp`, a lookup (a SHA-256 of the token and an LRU
 * hit) instead of an ES256 verification. Only successes are kept (fast-jwt's errorCacheTTL
 * stays -1), so an unknown kid is looked up again once the key rotates in. What the cache
 * skips is the signature and the claim checks of a token that has passed them; what can change
 * afterwards is checked on every request by the verifiers: the expiry (the entry ends at `exp`),
 * accessTokenClaimProblem and the denylist.
 */
export function strictAccessTokenVerifyOptions () {
  return {
    algorithms: [ACCESS_TOKEN_ALGORITHM] as Array<typeof ACCESS_TOKEN_ALGORITHM>,
    allowedIss: ACCESS_TOKEN_ISSUER,
    allowedAud: ACCESS_TOKEN_AUDIENCE,
    requiredClaims: ['iss', 'aud', 'sub', 'iat', 'exp', 'jti'],
    checkTyp: ACCESS_TOKEN_TYPE,
    cache: VERIFIED_TOKEN_CACHE_SIZE
  }
}

/**
 * What fast-jwt leaves to us, on a payload whose signature it has checked: `iat` not in the
 * future, a `jti` to revoke it by, and `sub` of the right kind: a person's token (no `client_id`) names an account
 * (a UUID), a service's names its client. Returns why the token is refused, or undefined.
 */
export function accessTokenClaimProblem (claims: Record<string, unknown>, nowMs: number = Date.now()): string | undefined {
  const { iat, exp, sub, scope, jti, client_id: clientId } = claims
  if (typeof iat !== 'number' || !Number.isFinite(iat)) return 'iat must be a number'
  if (iat > nowMs / 1000 + CLOCK_SKEW_SECONDS) return 'iat is in the future'
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return 'exp must be a number'
  // A revocation names a token by its jti (RFC 9068 §2.2): one without could not be revoked.
  if (typeof jti !== 'string' || jti === '' || jti.length > 64) return 'jti must be a non-empty string'
  if (typeof sub !== 'string' || sub === '') return 'sub must be a non-empty string'
  if (scope !== undefined && typeof scope !== 'string') return 'scope must be a string'
  if (clientId === undefined) return isUuid(sub) ? undefined : "a user token's sub must be an account id (a UUID)"
  if (typeof clientId !== 'string' || clientId !== sub) return "a service token's sub must be its client_id"
  return undefined
}
