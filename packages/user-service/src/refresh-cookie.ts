import type { CookieSerializeOptions } from '@fastify/cookie'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { REFRESH_COOKIE, TOKEN_PATH } from '@orders/contracts'

export interface RefreshCookiePolicy {
  /** Secure even on a plain-http request (NODE_ENV=production: TLS may end before the gateway). */
  alwaysSecure: boolean
}

/**
 * The browser's refresh token: HttpOnly (no script reads it), SameSite=Strict (no other site's
 * page makes the browser send it), Path=/oauth/token (no other request carries it), and Secure
 * whenever the browser reached the gateway over https. The gateway says which in
 * X-Forwarded-Proto (haproxy.cfg), which Fastify reads from the gateway's address only
 * (trustProxy); plain http stays usable on a developer's machine, where browsers would drop
 * a Secure cookie.
 */
function cookieOptions (request: FastifyRequest, policy: RefreshCookiePolicy): CookieSerializeOptions {
  return { path: TOKEN_PATH, httpOnly: true, sameSite: 'strict', secure: policy.alwaysSecure || request.protocol === 'https' }
}

/** Lasts as long as the session can: a person who closes the browser is still signed in tomorrow. */
export function setRefreshCookie (request: FastifyRequest, reply: FastifyReply, policy: RefreshCookiePolicy, token: string, sessionExpiresAt: Date): void {
  void reply.setCookie(REFRESH_COOKIE, token, { ...cookieOptions(request, policy), expires: sessionExpiresAt })
}

export function clearRefreshCookie (request: FastifyRequest, reply: FastifyReply, policy: RefreshCookiePolicy): void {
  void reply.clearCookie(REFRESH_COOKIE, cookieOptions(request, policy))
}

export function refreshCookieOf (request: FastifyRequest): string | undefined {
  const value = request.cookies[REFRESH_COOKIE]
  return value === undefined || value === '' ? undefined : value
}
