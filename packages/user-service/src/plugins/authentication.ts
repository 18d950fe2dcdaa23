import { randomUUID } from 'node:crypto'
import fp from 'fastify-plugin'
import fastifyJwt, { type TokenOrHeader } from '@fastify/jwt'
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify'
import {
  ACCESS_TOKEN_ALGORITHM, ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER, ACCESS_TOKEN_TTL_SECONDS, SCOPES,
  hasScope, type AccessTokenClaims
} from '@orders/contracts'
import { ACCESS_TOKEN_TYPE, accessTokenClaimProblem, strictAccessTokenVerifyOptions, type AccessTokenDenylist } from '@orders/platform'
import type { SigningKeys } from '../signing-keys.ts'
import type { IssuedAccessToken } from '../sessions.ts'

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
    /** An access token for these claims, signed with the key that signs now (iss, aud, iat, exp and jti added). */
    issueAccessToken: (claims: AccessTokenRequest) => IssuedAccessToken
    /**
     * The claims of the request's bearer token when it is genuine and unexpired, revoked or
     * not (signing out twice is harmless); undefined otherwise. Answers nothing by itself.
     */
    genuineBearerToken: (request: FastifyRequest) => Promise<AccessTokenClaims | undefined>
    /** The revoked access tokens requireUserToken refuses (tests wait on it). */
    accessTokenDenylist: AccessTokenDenylist
  }
}

/** What a token is issued for: a person in a session (`sid`), or a service (`client_id`). */
export interface AccessTokenRequest { sub: string, scope: string, client_id?: string, sid?: string }

export interface AuthenticationOptions {
  signingKeys: SigningKeys
  /** Tokens revoked before they expire (signed out), refused by requireUserToken. */
  denylist: AccessTokenDenylist
}

const INVALID_TOKEN = 'missing or invalid access token'
const REVOKED_TOKEN = 'missing or invalid access token: it has been revoked (signed out)'
const TELLING_ERRORS = new Set(['FST_JWT_NO_AUTHORIZATION_IN_HEADER', 'FST_JWT_AUTHORIZATION_TOKEN_EXPIRED'])

/**
 * Issues and verifies the platform's access tokens with @fastify/jwt: ES256 only, signed with
 * the key of users.signing_keys that signs now (its kid in the header), issuer and audience pinned.
 * `app.issueAccessToken(claims)` adds iss, aud, iat, exp (ACCESS_TOKEN_TTL_SECONDS) and a jti. Routes
 * state who may call them: `onRequest: app.requireUserToken`, or `config: { public: true }`.
 * Verification is cached per token (strictAccessTokenVerifyOptions); the claim rules and the
 * denylist are checked on every request, cached or not.
 */
export default fp(async function authentication (app, { signingKeys, denylist }: AuthenticationOptions) {
  await app.register(fastifyJwt, {
    secret: {
      // Only a default: issueAccessToken names the key that signs at that moment.
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

  app.decorate('accessTokenDenylist', denylist)
  app.decorate('issueAccessToken', (claims: AccessTokenRequest): IssuedAccessToken => {
    const { kid, privateKeyPem } = signingKeys.current
    // iat given, so exp is exactly iat + the lifetime (fast-jwt adds expiresIn to it).
    const iat = Math.floor(Date.now() / 1000)
    const jti = randomUUID()
    const token = app.jwt.sign({ ...claims, iat, jti }, { key: privateKeyPem, kid })
    return { token, jti, expiresAt: iat + ACCESS_TOKEN_TTL_SECONDS }
  })

  /** The genuine token's claims (signature and claim rules), or why not. */
  async function verifiedClaims (request: FastifyRequest): Promise<AccessTokenClaims> {
    const claims = await request.jwtVerify<AccessTokenClaims>()
    const problem = accessTokenClaimProblem(claims as unknown as Record<string, unknown>)
    if (problem !== undefined) throw new Error(problem)
    return claims
  }

  app.decorate('genuineBearerToken', async (request: FastifyRequest) => await verifiedClaims(request).catch(() => undefined))

  /** The claims of the request's bearer token (also in `request.user`), or a 401 with the RFC 6750 challenge. */
  async function verifyAccessToken (request: FastifyRequest, reply: FastifyReply): Promise<AccessTokenClaims> {
    // Whatever the outcome, an answer to a request that carries a token is never cached.
    void reply.header('cache-control', 'no-store')
    let message: string
    try {
      const claims = await verifiedClaims(request)
      // After the cache too: a token revoked after it was first verified is refused all the same.
      if (!denylist.isRevoked(claims.jti)) return claims
      request.log.info({ reason: 'revoked' }, 'access token rejected')
      message = REVOKED_TOKEN
    } catch (err) {
      const { code, message: reason } = err as { code?: string, message: string }
      request.log.info({ reason }, 'access token rejected')
      // Missing and expired are worth telling the client; every other failure (malformed, bad
      // signature, wrong algorithm, unknown kid, wrong issuer) is just "invalid".
      message = code !== undefined && TELLING_ERRORS.has(code) ? reason : INVALID_TOKEN
    }
    void reply.header('www-authenticate', 'Bearer')
    throw request.server.httpErrors.unauthorized(message)
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
  app.decorate('requireUserToken', requireUserToken)
}, { name: 'authentication' })
