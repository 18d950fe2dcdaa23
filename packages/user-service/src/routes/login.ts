import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ACCESS_TOKEN_TTL_SECONDS, AccessTokenResponse, BODY_ERRORS, errorResponses, LoginBody, REFRESH_COOKIE, SCOPES, TOKEN_PATH } from '@orders/contracts'
import type { AccountRepository } from '../account-repository.ts'
import type { PasswordHasher } from '../passwords.ts'
import type { RequestLimits } from '../config.ts'
import type { Sessions } from '../sessions.ts'
import { setRefreshCookie, type RefreshCookiePolicy } from '../refresh-cookie.ts'

export interface LoginRoutesOptions {
  accounts: AccountRepository
  passwords: PasswordHasher
  sessions: Sessions
  cookie: RefreshCookiePolicy
  limits: RequestLimits
}

const loginRoutes: FastifyPluginAsyncTypebox<LoginRoutesOptions> = async (app, { accounts, passwords, sessions, cookie, limits }) => {
  app.post('/login', {
    config: { public: true },
    // Per account and address with a growing wait: guessing one account's password slows down
    // exponentially, yet nobody elsewhere can lock its owner out. Per address: one client
    // cannot walk through many accounts.
    preHandler: app.limitRequests(
      { name: 'login-per-client', perMinute: limits.LOGIN_LIMIT_PER_CLIENT, key: request => request.ip },
      { name: 'login-per-account', perMinute: limits.LOGIN_LIMIT_PER_ACCOUNT, growingBackoff: true, key: request => `${(request.body as { email: string }).email.toLowerCase()}|${request.ip}` }
    ),
    schema: {
      tags: ['users'],
      summary: 'Sign in: exchange email and password for a user access token and a session (public)',
      description: `Returns an ES256 JWT with scope \`${SCOPES.user}\`, valid for ${ACCESS_TOKEN_TTL_SECONDS} seconds, ` +
        `and starts a session: its refresh token comes only in the \`${REFRESH_COOKIE}\` cookie (HttpOnly, SameSite=Strict, Path=${TOKEN_PATH}), ` +
        `never in the body, so a browser's script never sees it. Exchange it for a new access token at POST ${TOKEN_PATH} (grant_type=refresh_token). ` +
        'A wrong password and an unknown email get the same 401. ' +
        `At most ${limits.LOGIN_LIMIT_PER_CLIENT} per minute from one address and ${limits.LOGIN_LIMIT_PER_ACCOUNT} per account from one address, ` +
        'the wait doubling with each try beyond (429 with Retry-After).',
      body: LoginBody,
      response: {
        200: { ...AccessTokenResponse, headers: { type: 'object', properties: { 'set-cookie': { type: 'string', description: `${REFRESH_COOKIE}=<refresh token>; Path=${TOKEN_PATH}; HttpOnly; SameSite=Strict; Expires=<the session's end> (Secure over https)` } } } },
        ...errorResponses(...BODY_ERRORS, 401, 429, 503)
      }
    }
  }, async (request, reply) => {
    const { email, password } = request.body
    const account = await accounts.findByEmail(email)
    // Always one argon2 verification, also for an unknown email: see PasswordHasher.verify.
    const passwordMatches = await passwords.verify(account?.passwordHash, password)
    if (account === undefined || !passwordMatches) return reply.unauthorized('The email or password is wrong')

    const session = await sessions.signIn(account.id)
    setRefreshCookie(request, reply, cookie, session.refreshToken, session.sessionExpiresAt)
    void reply.header('cache-control', 'no-store')
    return { access_token: session.accessToken.token, token_type: 'Bearer' as const, expires_in: ACCESS_TOKEN_TTL_SECONDS }
  })
}

export default loginRoutes
