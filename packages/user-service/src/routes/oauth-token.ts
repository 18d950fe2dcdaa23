import formbody from '@fastify/formbody'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifySchemaValidationError } from 'fastify'
import { ACCESS_TOKEN_TTL_SECONDS, AccessTokenResponse, BODY_ERRORS, ClientCredentialsBody, errorResponses } from '@orders/contracts'
import { DomainError } from '@orders/platform'
import type { ServiceClients } from '../service-clients.ts'
import type { RequestLimits } from '../config.ts'

export interface OAuthTokenRoutesOptions {
  serviceClients: ServiceClients
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

function describeInvalidTokenRequest (errors: FastifySchemaValidationError[], dataVar: string): Error {
  if (errors.some(error => error.instancePath === '/grant_type')) {
    return new InvalidTokenRequestError('unsupported_grant_type: only "client_credentials" is supported')
  }
  return new InvalidTokenRequestError(`invalid_request: ${errors.map(error => `${dataVar}${error.instancePath} ${error.message ?? 'is invalid'}`).join(', ')}`)
}

const oauthTokenRoutes: FastifyPluginAsyncTypebox<OAuthTokenRoutesOptions> = async (app, { serviceClients, limits }) => {
  // RFC 6749 token requests are form-encoded. Registered here, so only this route accepts forms.
  await app.register(formbody)

  // Public as far as tokens go: the client's id and secret in the body are its credentials.
  app.post('/oauth/token', {
    config: { public: true },
    // Secrets are compared in constant time, but guessing one must also be slow.
    preHandler: app.limitRequests({ name: 'token-per-client', perMinute: limits.TOKEN_LIMIT_PER_CLIENT, growingBackoff: true, key: request => `${(request.body as { client_id: string }).client_id}|${request.ip}` }),
    schema: {
      tags: ['oauth'],
      summary: 'Service token: OAuth2 client-credentials grant (services, with their client_id and client_secret)',
      description: 'For services only (clients from SERVICE_CLIENTS); people sign in with POST /login. ' +
        'Form-encoded (RFC 6749) or JSON. Without `scope`, every scope of the client is granted.',
      consumes: ['application/x-www-form-urlencoded', 'application/json'],
      body: ClientCredentialsBody,
      response: { 200: AccessTokenResponse, ...errorResponses(...BODY_ERRORS, 401, 429) }
    },
    schemaErrorFormatter: describeInvalidTokenRequest
  }, async (request, reply) => {
    const { client_id: clientId, client_secret: clientSecret, scope: requestedScope } = request.body
    const outcome = serviceClients.grant(clientId, clientSecret, requestedScope)
    if (!outcome.granted && outcome.reason === 'invalid_client') {
      return reply.unauthorized('invalid_client: unknown client or wrong client secret')
    }
    if (!outcome.granted) {
      return reply.badRequest('invalid_scope: the requested scope is not granted to this client')
    }

    const scope = outcome.scopes.join(' ')
    const accessToken = app.signAccessToken({ sub: outcome.clientId, client_id: outcome.clientId, scope })
    void reply.header('cache-control', 'no-store')
    return { access_token: accessToken, token_type: 'Bearer' as const, expires_in: ACCESS_TOKEN_TTL_SECONDS, scope }
  })
}

export default oauthTokenRoutes
