import fp from 'fastify-plugin'
import fastifyJwt from '@fastify/jwt'
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify'
import { accessTokenClaimProblem, JwksKeyCache, strictAccessTokenVerifyOptions, type AccessTokenDenylist } from '@orders/platform'
import { ACCESS_TOKEN_ALGORITHM, hasScope, LIVE_STATUS_TOKEN_PARAM, type AccessTokenClaims, type Scope } from '@orders/contracts'

declare module '@fastify/jwt' {
  interface FastifyJWT { user: AccessTokenClaims }
}

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * An onRequest hook: a valid access token in `Authorization: Bearer …` (401 otherwise)
     * carrying one of `scopes` (403 otherwise).
     */
    requireScope: (...scopes: Scope[]) => onRequestHookHandler
    /** The same for a WebSocket upgrade: browsers send the token as `?access_token=`. */
    requireWebSocketScope: (...scopes: Scope[]) => onRequestHookHandler
    /** The issuer's public keys (tests read its fetch count). */
    jwksKeys: JwksKeyCache
    /** The access tokens revoked before they expire (signed out), refused by every guard. */
    accessTokenDenylist: AccessTokenDenylist
  }
}

export interface AuthenticationOptions {
  userServiceUrl: string
  denylist: AccessTokenDenylist
  /** The clock of the key cache (tests move it past the cache lifetime). */
  now?: () => number
}

/** Requests whose token may come in the query string: WebSocket upgrades, which cannot send headers. */
const tokenInQueryAllowed = new WeakSet<FastifyRequest>()

/**
 * Verifies access tokens against the user-service's JWKS (JwksKeyCache: known keys from
 * memory, at most one fetch per interval for unknown kids) with the strict claim rules every
 * verifier shares (platform/src/access-token-claims.ts), then the denylist (a map lookup).
 * Verification is cached per token (strictAccessTokenVerifyOptions): a repeated token costs a
 * hash and a lookup; the claim rules and the denylist are checked on every request all the same.
 */
export default fp(async function authentication (app, opts: AuthenticationOptions) {
  const { denylist } = opts
  app.decorate('accessTokenDenylist', denylist)
  const keys = new JwksKeyCache({
    jwksUrl: new URL('/.well-known/jwks.json', opts.userServiceUrl).toString(),
    now: opts.now,
    log: app.log.child({ component: 'jwks' })
  })
  app.decorate('jwksKeys', keys)

  await app.register(fastifyJwt, {
    decode: { complete: true },
    secret: async (_request: FastifyRequest, token: any) => {
      const { kid, alg } = token.header ?? {}
      if (typeof kid !== 'string' || alg !== ACCESS_TOKEN_ALGORITHM) throw new Error('token has no usable kid')
      const pem = await keys.publicKey(kid)
      if (pem === undefined) throw new Error('unknown kid')
      return pem
    },
    // One token lookup for every route, so every request goes through the one cached verifier
    // (per-call options would make @fastify/jwt build a verifier, and a cache, per request).
    verify: { ...strictAccessTokenVerifyOptions(), extractToken: (request: FastifyRequest) => bearerToken(request) ?? (tokenInQueryAllowed.has(request) ? tokenInQuery(request) : undefined) },
    messages: {
      authorizationTokenInvalid: 'The access token is invalid',
      authorizationTokenUntrusted: 'The access token is not trusted'
    }
  })

  function scopeCheck (scopes: Scope[], fromQuery: boolean): onRequestHookHandler {
    return async function checkAccessToken (request: FastifyRequest, reply: FastifyReply) {
      // Whatever the outcome, an answer to a request that carries a token is never cached.
      void reply.header('cache-control', 'no-store')
      await verifyAccessToken(request, fromQuery)
      if (!scopes.some(scope => hasScope(request.user.scope, scope))) {
        throw app.httpErrors.forbidden('This token may not do that')
      }
    }
  }
  app.decorate('requireScope', (...scopes: Scope[]) => scopeCheck(scopes, false))
  app.decorate('requireWebSocketScope', (...scopes: Scope[]) => scopeCheck(scopes, true))

  async function verifyAccessToken (request: FastifyRequest, fromQuery: boolean): Promise<void> {
    if (fromQuery) tokenInQueryAllowed.add(request)
    try {
      await request.jwtVerify()
      const problem = accessTokenClaimProblem(request.user as unknown as Record<string, unknown>)
      if (problem !== undefined) throw new Error(problem)
      // After the cache too: a token revoked after it was first verified is refused all the same.
      if (denylist.isRevoked(request.user.jti)) throw Object.assign(new Error('revoked'), { code: 'REVOKED' })
    } catch (err) {
      request.log.info({ reason: (err as Error).message }, 'access token rejected')
      // One sentence for every failure (the log has the reason); an expired or revoked token is worth naming.
      const message = TELLING_MESSAGES[(err as { code?: string }).code ?? ''] ?? 'missing or invalid access token'
      throw app.httpErrors.unauthorized(fromQuery && !tokenInQuery(request) ? `The ${LIVE_STATUS_TOKEN_PARAM} query parameter is required` : message)
    }
  }
}, { name: 'authentication' })

const TELLING_MESSAGES: Record<string, string> = {
  FST_JWT_AUTHORIZATION_TOKEN_EXPIRED: 'missing or invalid access token: it has expired',
  REVOKED: 'missing or invalid access token: it has been revoked (signed out)'
}

function bearerToken (request: FastifyRequest): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')
  return match?.[1]
}

function tokenInQuery (request: FastifyRequest): string | undefined {
  return (request.query as Record<string, string | undefined>)[LIVE_STATUS_TOKEN_PARAM]
}
