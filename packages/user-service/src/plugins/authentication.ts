import fp from 'fastify-plugin'
import fastifyJwt, { type TokenOrHeader } from '@fastify/jwt'
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify'
import {
  ACCESS_TOKEN_ALGORITHM, ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER, ACCESS_TOKEN_TTL_SECONDS, SCOPES,
  hasScope, type AccessTokenClaims
} from '@orders/contracts'
import { ACCESS_TOKEN_TYPE, accessTokenClaimProblem, strictAccessTokenVerifyOptions } from '@orders/platform'
import type { SigningKeys } from '../signing-keys.ts'

declare module '@fastify/jwt' {
  interface FastifyJWT { user: AccessTokenClaims }
}

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * An onRequest hook: a signed-in person's valid access token in `Authorization: Bearer …`
     * (401 otherwise, with the RFC 6750 challenge); a service's token is 403. `request.user`
     * holds its claims afterwards.
     */
    requireUserToken: onRequestHookHandler
    /** An access token for these claims, signed with the key that signs now (iss, aud, iat, exp added). */
    signAccessToken: (claims: { sub: string, scope: string, client_id?: string }) => string
  }
}

export interface AuthenticationOptions {
  signingKeys: SigningKeys
}

const INVALID_TOKEN = 'missing or invalid access token'
const TELLING_ERRORS = new Set(['FST_JWT_NO_AUTHORIZATION_IN_HEADER', 'FST_JWT_AUTHORIZATION_TOKEN_EXPIRED'])

/**
 * Issues and verifies the platform's access tokens with @fastify/jwt: ES256 only, signed with
 * the key of users.signing_keys that signs now (its kid in the header), issuer and audience pinned.
 * `app.signAccessToken(claims)` adds iss, aud, iat and exp (ACCESS_TOKEN_TTL_SECONDS). Routes state
 * who may call them: `onRequest: app.requireUserToken`, or `config: { public: true }`.
 */
export default fp(async function authentication (app, { signingKeys }: AuthenticationOptions) {
  await app.register(fastifyJwt, {
    secret: {
      // Only a default: signAccessToken names the key that signs at that moment.
      private: signingKeys.current.privateKeyPem,
      // The token names its key (kid). A kid this process does not hold is rejected rather
      // than tried against some other key; a kid it has not loaded yet (rotated in by another
      // replica or `pnpm keys rotate`) reloads the table first.
      public: async (_request: FastifyRequest, token: TokenOrHeader) => {
        const kid = 'header' in token ? token.header.kid : token.kid
        const pem = typeof kid === 'string' ? await signingKeys.publicKeyPem(kid) : undefined
        if (pem === undefined) throw new Error('unknown signing key')
        return pem
      }
    },
    // The header (kid) must reach the key lookup above.
    decode: { complete: true },
    sign: {
      algorithm: ACCESS_TOKEN_ALGORITHM,
      kid: signingKeys.current.kid,
      header: { alg: ACCESS_TOKEN_ALGORITHM, typ: ACCESS_TOKEN_TYPE }, // RFC 9068: an access token, not an ID token
      iss: ACCESS_TOKEN_ISSUER,
      aud: ACCESS_TOKEN_AUDIENCE,
      expiresIn: ACCESS_TOKEN_TTL_SECONDS
    },
    // The algorithm pinned, so an HS256 token "signed" with our public key (algorithm
    // confusion) or an unsigned one is refused whatever its header says; every claim required.
    verify: strictAccessTokenVerifyOptions(),
    messages: {
      noAuthorizationInHeaderMessage: 'missing or invalid access token: send "Authorization: Bearer <token>"',
      authorizationTokenExpiredMessage: 'missing or invalid access token: it has expired'
    }
  })

  app.decorate('requireUserToken', requireUserToken)
  app.decorate('signAccessToken', (claims: { sub: string, scope: string, client_id?: string }) => {
    const { kid, privateKeyPem } = signingKeys.current
    return app.jwt.sign(claims, { key: privateKeyPem, kid })
  })
}, { name: 'authentication' })

/** The claims of the request's bearer token (also in `request.user`), or a 401 with the RFC 6750 challenge. */
async function verifyAccessToken (request: FastifyRequest, reply: FastifyReply): Promise<AccessTokenClaims> {
  // Whatever the outcome, an answer to a request that carries a token is never cached.
  void reply.header('cache-control', 'no-store')
  try {
    const claims = await request.jwtVerify<AccessTokenClaims>()
    const problem = accessTokenClaimProblem(claims as unknown as Record<string, unknown>)
    if (problem !== undefined) throw new Error(problem)
    return claims
  } catch (err) {
    const { code, message } = err as { code?: string, message: string }
    request.log.info({ reason: message }, 'access token rejected')
    void reply.header('www-authenticate', 'Bearer')
    // Missing and expired are worth telling the client; every other failure (malformed, bad
    // signature, wrong algorithm, unknown kid, wrong issuer) is just "invalid".
    throw request.server.httpErrors.unauthorized(code !== undefined && TELLING_ERRORS.has(code) ? message : INVALID_TOKEN)
  }
}

/**
 * A signed-in person's token: scope `orders`, `sub` an account id, and no `client_id` (a
 * service token never stands for a person). Anything else is a valid token that may not do
 * this: 403.
 */
async function requireUserToken (request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const claims = await verifyAccessToken(request, reply)
  // accessTokenClaimProblem has made sure that a token without client_id has a UUID sub.
  if (!hasScope(claims.scope, SCOPES.user) || claims.client_id !== undefined) {
    throw request.server.httpErrors.forbidden('This needs a signed-in user\'s token; a service token may not do this')
  }
}
