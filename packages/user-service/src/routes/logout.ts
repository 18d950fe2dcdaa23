import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errorResponses, LOGOUT_PATH, REFRESH_COOKIE, TOKEN_PATH } from '@orders/contracts'
import type { RequestLimits } from '../config.ts'
import type { Sessions } from '../sessions.ts'
import { clearRefreshCookie, type RefreshCookiePolicy } from '../refresh-cookie.ts'

export interface LogoutRoutesOptions {
  sessions: Sessions
  cookie: RefreshCookiePolicy
  limits: RequestLimits
}

const logoutRoutes: FastifyPluginAsyncTypebox<LogoutRoutesOptions> = async (app, { sessions, cookie, limits }) => {
  const limitSignOuts = app.limitRequests({ name: 'session-per-client', perMinute: limits.SESSION_LIMIT_PER_CLIENT, key: request => request.ip })

  // Anyone may call it, and it ends only the session whose access token it carries: the token
  // is the credential. Without a genuine one it does nothing but clear the cookie, so signing out
  // twice, or after the session has ended, is harmless (and tells nobody anything).
  app.post(LOGOUT_PATH, {
    config: { public: true },
    preHandler: limitSignOuts,
    schema: {
      tags: ['users'],
      summary: 'Sign out: end the session of the access token (public: without one, it ends nothing)',
      description: 'Ends the session the bearer token was issued in: its refresh tokens stop working at once (401, `reason: "signed_out"`), ' +
        'and its access tokens, this one included, are refused by every service within moments (a denylist of their `jti`). ' +
        `Clears the \`${REFRESH_COOKIE}\` cookie (Path=${TOKEN_PATH}). Always 204: a token already revoked, expired, forged or missing ends nothing, ` +
        'so signing out twice is harmless. A client whose access token has expired refreshes first. ' +
        `At most ${limits.SESSION_LIMIT_PER_CLIENT} sign-outs and refreshes per minute from one address (429).`,
      security: [{ bearerAuth: [] }, {}],
      response: { 204: Type.Null({ description: 'Signed out (or nothing to sign out)' }), ...errorResponses(429, 503) }
    }
  }, async (request, reply) => {
    const claims = await app.genuineBearerToken(request)
    // A service's token names no session (it has no sid): nothing to end.
    if (claims?.sid !== undefined) await sessions.end(claims.sid, claims.sub, { jti: claims.jti, expiresAt: claims.exp })
    clearRefreshCookie(request, reply, cookie)
    return await reply.code(204).header('cache-control', 'no-store').send(null)
  })
}

export default logoutRoutes
