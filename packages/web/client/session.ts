/**
 * Who is signed in. The access token lives in sessionStorage: it survives a reload of the
 * tab, is gone when the tab closes, is not shared with other tabs and is never sent
 * automatically (so no CSRF). Script on the page could read it, as it could read anything
 * the page holds; the server's Content-Security-Policy allows only the app's own script.
 * See doc/web.md.
 */
import type { AccessTokenResponse } from '@orders/contracts'

export interface Session {
  token: string
  email: string
  /** When the token expires (ms since the epoch). */
  expiresAt: number
}

const STORAGE_KEY = 'orders.session'

export function sessionFromLogin (email: string, login: AccessTokenResponse, now = Date.now()): Session {
  return { token: login.access_token, email, expiresAt: now + login.expires_in * 1000 }
}

/** The stored session, or null when there is none or its token has expired. */
export function loadSession (now = Date.now()): Session | null {
  try {
    const stored = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? 'null') as Session | null
    if (stored && typeof stored.token === 'string' && typeof stored.email === 'string' && stored.expiresAt > now) return stored
  } catch {}
  sessionStorage.removeItem(STORAGE_KEY)
  return null
}

export function storeSession (session: Session | null): void {
  if (session) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session))
  else sessionStorage.removeItem(STORAGE_KEY)
}
