import formbody from '@fastify/formbody'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify'
import {
  ACCESS_TOKEN_TTL_SECONDS, BODY_ERRORS, ClientCredentialsBody, errorResponses, REFRESH_COOKIE, REFRESH_TOKEN_GRANT,
  RefreshedTokenResponse, RefreshTokenBody, TOKEN_PATH, TokenErrorResponse, TokenRequestBody, type SessionEndReason
} from '@orders/contracts'
import { DomainError, validatorCompiler } from '@orders/platform'
import type { ServiceClients } from '../service-clients.ts'
import type { RequestLimits } from '../config.ts'
import type { Sessions } from '../sessions.ts'
import { clearRefreshCookie, refreshCookieOf, setRefreshCookie, type RefreshCookiePolicy } from '../refresh-cookie.ts'

export interface OAuthTokenRoutesOptions {
  serviceClients: ServiceClients
  sessions: Sessions
  cookie: RefreshCookiePolicy
  limits: RequestLimits
}

/**
 * A token request the schema refuses. Its message starts with the RFC 6749 §5.2 error code, so
 * OAuth clients' logs say what they expect; as a DomainError it keeps that message in the one
 * error handler, instead of the plain-words validation message other routes give.
 */
class InvalidTokenRequestError extends DomainError {
  readonly kind = 'invalid_request'
}

const GRANTS = { client_credentials: ClientCredentialsBody, [REFRESH_TOKEN_GRANT]: RefreshTokenBody }

function describeInvalidTokenRequest (errors: FastifySchemaValidationError[], dataVar: string): Error {
  if (errors.some(error => error.instancePath === '/grant_type')) {
    return new InvalidTokenRequestError(`unsupported_grant_type: only ${Object.keys(GRANTS).map(grant => `"${grant}"`).join(' and ')} are supported`)
  }
  return new InvalidTokenRequestError(`invalid_request: ${errors.map(error => `${dataVar}${error.instancePath} ${error.message ?? 'is invalid'}`).join(', ')}`)
}

/**
 * The body is checked against the schema of the grant it names, so every error is about that
 * grant (the union's other branch would add its own complaints); an unknown grant is one error.
 */
const validateByGrant: FastifySchemaCompiler<unknown> = route => {
  if (route.httpPart !== 'body') return validatorCompiler(route)
  const validators = new Map(Object.entries(GRANTS).map(([grant, schema]) => [grant, validatorCompiler({ ...route, schema })]))
  return (data: unknown) => {
    const validate = validators.get(String((data as { grant_type?: unknown } | null)?.grant_type))
    if (validate === undefined) return { error: [{ instancePath: '/grant_type', message: 'is not supported' }] as unknown as Error }
    const valid = validate(data) as boolean
    return valid ? { value: data } : { error: (validate as unknown as { errors: Error }).errors }
  }
}

/** Refusal sentences by reason; the message starts with RFC 6749's invalid_grant. */
const REFUSALS: Record<SessionEndReason, string> = {
  no_session: `no refresh token: send one as refresh_token, or the ${REFRESH_COOKIE} cookie; sign in first`,
  invalid: 'the refresh token is not valid; sign in again',
  expired: 'the session has expired; sign in again',
  signed_out: 'the session was signed out; sign in again',
  reused: 'this refresh token was already used, so its session was ended in case someone else holds a copy; sign in again',
  revoked: 'the session was ended; sign in again'
}

const oauthTokenRoutes: FastifyPluginAsyncTypebox<OAuthTokenRoutesOptions> = async (app, { serviceClients, sessions, cookie, limits }) => {
  // RFC 6749 token requests are form-encoded. Registered here, so only this route accepts forms.
  await app.register(formbody)

  // Secrets are compared in constant time, but guessing one must also be slow. A refresh token
  // cannot be guessed (256 bits): its limit, per address, only bounds the load.
  const limitServiceTokens = app.limitRequests({ name: 'token-per-client', perMinute: limits.TOKEN_LIMIT_PER_CLIENT, growingBackoff: true, key: request => `${(request.body as { client_id: string }).client_id}|${request.ip}` })
  const limitRefreshes = app.limitRequests({ name: 'session-per-client', perMinute: limits.SESSION_LIMIT_PER_CLIENT, key: request => request.ip })

  function refuse (reply: FastifyReply, reason: SessionEndReason) {
    return reply.code(401).header('cache-control', 'no-store').send({ statusCode: 401, error: 'Unauthorized', message: `invalid_grant: ${REFUSALS[reason]}`, reason })
  }

  // Public as far as access tokens go: the body's client secret or refresh token (or the refresh cookie) is the credential.
  app.post(TOKEN_PATH, {
    config: { public: true },
    preHandler: async (request, reply) => {
      await (request.body.grant_type === REFRESH_TOKEN_GRANT ? limitRefreshes : limitServiceTokens)(request, reply)
    },
    schema: {
      tags: ['oauth'],
      summary: 'Token endpoint: a service\'s token (client_credentials) or a new access token for a session (refresh_token)',
      description: '**client_credentials** (RFC 6749 §4.4), for services only (clients from SERVICE_CLIENTS): without `scope`, every scope of the client is granted. ' +
        `**refresh_token** (RFC 6749 §6): the refresh token from POST /login, in the \`${REFRESH_COOKIE}\` cookie (browsers) or as \`refresh_token\`. ` +
        'Each refresh token works once: the answer brings its successor (in the cookie, or as `refresh_token` when it came in the body), ' +
        'and presenting a used one again ends the whole session (401, `reason: "reused"`). ' +
        'Every refused refresh is 401 with `reason` saying why (`no_session`, `invalid`, `expired`, `signed_out`, `reused`, `revoked`). ' +
        `Form-encoded (RFC 6749) or JSON. At most ${limits.TOKEN_LIMIT_PER_CLIENT} service-token requests per minute per client id and address (the wait doubling beyond), ` +
        `${limits.SESSION_LIMIT_PER_CLIENT} refreshes per address (429 with Retry-After).`,
      consumes: ['application/x-www-form-urlencoded', 'application/json'],
      body: TokenRequestBody,
      response: { 200: RefreshedTokenResponse, 401: TokenErrorResponse, ...errorResponses(...BODY_ERRORS, 429, 503) }
    },
    validatorCompiler: validateByGrant,
    schemaErrorFormatter: describeInvalidTokenRequest
  }, async (request, reply) => {
    void reply.header('cache-control', 'no-store')
    const body = request.body
    if (body.grant_type === REFRESH_TOKEN_GRANT) {
      const fromBody = body.refresh_token !== undefined
      const presented = body.refresh_token ?? refreshCookieOf(request)
      if (presented === undefined) return await refuse(reply, 'no_session')
      const outcome = await sessions.refresh(presented)
      if (!outcome.refreshed) {
        if (!fromBody) clearRefreshCookie(request, reply, cookie)
        return await refuse(reply, outcome.reason)
      }
      // The new token goes back the way the old one came: a browser's script never sees it.
      if (!fromBody) setRefreshCookie(request, reply, cookie, outcome.refreshToken, outcome.sessionExpiresAt)
      return {
        access_token: outcome.accessToken.token,
        token_type: 'Bearer' as const,
        expires_in: ACCESS_TOKEN_TTL_SECONDS,
        ...(fromBody && { refresh_token: outcome.refreshToken })
      }
    }

    const outcome = serviceClients.grant(body.client_id, body.client_secret, body.scope)
    if (!outcome.granted && outcome.reason === 'invalid_client') {
      return reply.unauthorized('invalid_client: unknown client or wrong client secret')
    }
    if (!outcome.granted) {
      return reply.badRequest('invalid_scope: the requested scope is not granted to this client')
    }
    const scope = outcome.scopes.join(' ')
    const { token } = app.issueAccessToken({ sub: outcome.clientId, client_id: outcome.clientId, scope })
    return { access_token: token, token_type: 'Bearer' as const, expires_in: ACCESS_TOKEN_TTL_SECONDS, scope }
  })
}

export default oauthTokenRoutes
