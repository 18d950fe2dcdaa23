import { createPublicKey } from 'node:crypto'
import fp from 'fastify-plugin'
import fastifyJwt from '@fastify/jwt'
import buildGetJwks from 'get-jwks'
import type { FastifyRequest, onRequestHookHandler } from 'fastify'
import { ACCESS_TOKEN_ALGORITHM, ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER, hasScope, LIVE_STATUS_TOKEN_PARAM, type AccessTokenClaims, type Scope } from '@orders/contracts'

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
  }
}

// An unknown `kid` makes get-jwks refetch the JWKS (key rotation). Forged tokens with random
// kids must not turn into a flood of fetches against the user-service: after a miss, further
// misses within this window are refused without fetching.
const UNKNOWN_KID_REFETCH_INTERVAL_MS = 5_000

/**
 * Verifies access tokens against the user-service's JWKS (cached by get-jwks; refetched on an
 * unknown kid), with the algorithm, issuer and audience pinned.
 */
export default fp(async function authentication (app, opts: { userServiceUrl: string }) {
  const jwks = buildGetJwks({ max: 100, ttl: 10 * 60_000, jwksPath: '/.well-known/jwks.json' })
  let lastMissAt = 0
  // get-jwks caches the JWK, but its getPublicKey converts it to PEM on every call with
  // jwk-to-pem, which validates the EC point in pure JavaScript (bn.js): about 10 ms of CPU
  // per request, measured. Convert once per cached JWK object, with node:crypto.
  const pemByJwk = new WeakMap<object, string>()
  function toPem (jwk: object): string {
    let pem = pemByJwk.get(jwk)
    if (pem === undefined) {
      const { kty, crv, x, y } = jwk as { kty: string, crv: string, x: string, y: string }
      pem = createPublicKey({ key: { kty, crv, x, y }, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString()
      pemByJwk.set(jwk, pem)
    }
    return pem
  }

  await app.register(fastifyJwt, {
    decode: { complete: true },
    secret: async (_request: FastifyRequest, token: any) => {
      const { kid, alg } = token.header ?? {}
      if (typeof kid !== 'string' || alg !== ACCESS_TOKEN_ALGORITHM) throw new Error('token has no usable kid')
      const cacheKey = jwks.generateCacheKey(alg, kid, opts.userServiceUrl.replace(/\/?$/, '/'))
      if (jwks.cache.get(cacheKey) === undefined && Date.now() - lastMissAt < UNKNOWN_KID_REFETCH_INTERVAL_MS) {
        throw new Error('unknown kid')
      }
      try {
        return toPem(await jwks.getJwk({ domain: opts.userServiceUrl, kid, alg }))
      } catch (err) {
        lastMissAt = Date.now()
        throw err
      }
    },
    verify: {
      algorithms: [ACCESS_TOKEN_ALGORITHM],
      allowedIss: ACCESS_TOKEN_ISSUER,
      allowedAud: ACCESS_TOKEN_AUDIENCE
    },
    messages: {
      authorizationTokenInvalid: 'The access token is invalid',
      authorizationTokenUntrusted: 'The access token is not trusted'
    }
  })

  function scopeCheck (scopes: Scope[], fromQuery: boolean): onRequestHookHandler {
    return async function checkAccessToken (request: FastifyRequest) {
      await verifyAccessToken(request, fromQuery)
      if (!scopes.some(scope => hasScope(request.user.scope, scope))) {
        throw app.httpErrors.forbidden('This token may not do that')
      }
    }
  }
  app.decorate('requireScope', (...scopes: Scope[]) => scopeCheck(scopes, false))
  app.decorate('requireWebSocketScope', (...scopes: Scope[]) => scopeCheck(scopes, true))

  async function verifyAccessToken (request: FastifyRequest, fromQuery: boolean): Promise<void> {
    try {
      if (fromQuery) {
        // @fastify/jwt honours a per-call extractToken (merged over the plugin's verify options);
        // its types only declare it on the plugin options.
        const fromQueryString = { extractToken: (req: FastifyRequest) => tokenInQuery(req) }
        await request.jwtVerify(fromQueryString as Parameters<typeof request.jwtVerify>[0])
      } else {
        await request.jwtVerify()
      }
    } catch (err) {
      request.log.info({ reason: (err as Error).message }, 'access token rejected')
      // @fastify/jwt's own 401s say what is wrong (missing, expired); anything else is "invalid".
      const message = (err as { statusCode?: number }).statusCode === 401 ? (err as Error).message : 'The access token is invalid'
      throw app.httpErrors.unauthorized(fromQuery && !tokenInQuery(request) ? `The ${LIVE_STATUS_TOKEN_PARAM} query parameter is required` : message)
    }
  }
}, { name: 'authentication' })

function tokenInQuery (request: FastifyRequest): string | undefined {
  return (request.query as Record<string, string | undefined>)[LIVE_STATUS_TOKEN_PARAM]
}
