/**
 * Who is signed in, and their access token. The token lives in this module's memory only: no
 * storage, so script injected into the page later finds none at rest, and closing the tab
 * forgets it. What keeps the person signed in is the refresh token, in an HttpOnly cookie the
 * browser sends to POST /oauth/token only, which no script here can read. A reload asks that
 * endpoint for a new access token (restore), and so does a timer before the token expires.
 * See doc/web.md.
 *
 * Every tab shares the cookie, and a refresh token works once: two tabs refreshing with the
 * same one at the same moment would look like a stolen copy and end the session. So refreshes
 * take turns through a lock held across tabs (Web Locks); the browser stores the new cookie
 * before the lock is released, so the next tab sends the new token. Tabs also tell each other
 * when they sign in or out (BroadcastChannel).
 */
import type { AccessTokenResponse, SessionEndReason } from '@orders/contracts'

export interface Session {
  email: string
}

/** What the session holds now; `ended` says why a session stopped (none: never signed in here). */
export type SessionState =
  | { kind: 'restoring' }
  | { kind: 'signed-in', session: Session }
  | { kind: 'signed-out', ended?: SessionEnd }

/** Why the person is signed out: the server's reason, or what happened in this browser. */
export type SessionEnd = SessionEndReason | 'signed-out-here' | 'signed-out-in-another-tab' | 'unreachable'

/** The refresh grant's answer as the keeper needs it. */
export type RefreshAnswer = { refreshed: true, token: AccessTokenResponse } | { refreshed: false, reason: SessionEndReason }

export interface SessionKeeperOptions {
  /** POST /oauth/token with the cookie; rejects when the server cannot be reached or fails (5xx, 429). */
  refresh: () => Promise<RefreshAnswer>
  /** GET /users/me: the email to show after a reload. */
  whoAmI: (token: string) => Promise<Session>
  /** POST /logout with the token. */
  logout: (token: string) => Promise<void>
  onChange: (state: SessionState) => void
  locks?: Pick<LockManager, 'request'>
  channel?: Pick<BroadcastChannel, 'postMessage' | 'close'> & { onmessage: ((event: MessageEvent) => void) | null }
  now?: () => number
}

/** Refresh this long before the token expires (or a fifth of its lifetime, if that is shorter). */
const REFRESH_MARGIN_MS = 60_000
/** After a refresh that failed for want of the server, try again this soon (while the token lasts). */
const RETRY_AFTER_MS = 10_000
export const REFRESH_LOCK = 'orders-session-refresh'

type TabMessage = { type: 'signed-in' } | { type: 'signed-out' } | { type: 'ended', reason: SessionEndReason }

export class SessionKeeper {
  readonly #options: SessionKeeperOptions
  readonly #now: () => number
  #session: Session | null = null
  #token: { value: string, expiresAt: number, refreshAt: number } | null = null
  #refreshing: Promise<string | null> | undefined
  #timer: ReturnType<typeof setTimeout> | undefined
  #closed = false

  constructor (options: SessionKeeperOptions) {
    this.#options = options
    this.#now = options.now ?? Date.now
    if (options.channel) options.channel.onmessage = event => { this.#fromAnotherTab(event.data as TabMessage) }
  }

  /** At page load: the cookie, if there is one, buys an access token, and the person is still signed in. */
  async restore (): Promise<void> {
    this.#options.onChange({ kind: 'restoring' })
    try {
      const token = await this.#refresh()
      if (token === null) return // #end has said why
      this.#session = await this.#options.whoAmI(token)
      this.#options.onChange({ kind: 'signed-in', session: this.#session })
    } catch {
      this.#stop()
      this.#options.onChange({ kind: 'signed-out', ended: 'unreachable' })
    }
  }

  signIn (email: string, login: AccessTokenResponse): void {
    this.#keep(login)
    this.#session = { email }
    this.#options.onChange({ kind: 'signed-in', session: this.#session })
    this.#options.channel?.postMessage({ type: 'signed-in' } satisfies TabMessage)
  }

  /** An access token that is not about to expire; null once the session has ended. Rejects when the server cannot be reached. */
  async token (): Promise<string | null> {
    if (this.#token === null) return null
    if (this.#now() < this.#token.refreshAt) return this.#token.value
    return await this.#refresh()
  }

  /** The API refused `rejected` (401): a newer token, or null when the session has ended. */
  async replace (rejected: string): Promise<string | null> {
    if (this.#token === null) return null
    if (this.#token.value !== rejected) return this.#token.value
    return await this.#refresh()
  }

  /** The tab woke up, or came back online: a token that ran out meanwhile is replaced now. */
  wake (): void {
    if (this.#token !== null && this.#now() >= this.#token.refreshAt) this.#refresh().catch(() => {})
  }

  /** Ends the session on the server, then here, and in every other tab. Resolves false when the server could not be reached. */
  async signOut (): Promise<boolean> {
    let reached = true
    try {
      const token = await this.token()
      if (token !== null) await this.#options.logout(token)
    } catch {
      reached = false
    }
    this.#end('signed-out-here')
    this.#options.channel?.postMessage({ type: 'signed-out' } satisfies TabMessage)
    return reached
  }

  close (): void {
    this.#closed = true
    clearTimeout(this.#timer)
    this.#options.channel?.close()
  }

  /** One refresh at a time in this tab, and across tabs through the lock. */
  async #refresh (): Promise<string | null> {
    this.#refreshing ??= this.#refreshTakingTurns().finally(() => { this.#refreshing = undefined })
    return await this.#refreshing
  }

  async #refreshTakingTurns (): Promise<string | null> {
    const exchange = async (): Promise<RefreshAnswer> => await this.#options.refresh()
    let answer: RefreshAnswer
    try {
      answer = this.#options.locks ? await this.#options.locks.request(REFRESH_LOCK, exchange) : await exchange()
    } catch (err) {
      // No answer: the refresh token may still be good. Keep the session and try again soon.
      if (this.#token !== null) this.#schedule(Math.min(this.#token.expiresAt, this.#now() + RETRY_AFTER_MS))
      throw err
    }
    if (!answer.refreshed) {
      const wasSignedIn = this.#token !== null
      // No cookie at page load: this browser was never signed in (or signed out), nothing to say.
      this.#end(!wasSignedIn && answer.reason === 'no_session' ? undefined : answer.reason)
      if (wasSignedIn) this.#options.channel?.postMessage({ type: 'ended', reason: answer.reason } satisfies TabMessage)
      return null
    }
    this.#keep(answer.token)
    return answer.token.access_token
  }

  #keep (token: AccessTokenResponse): void {
    const now = this.#now()
    const lifetimeMs = token.expires_in * 1000
    const refreshAt = now + lifetimeMs - Math.min(REFRESH_MARGIN_MS, lifetimeMs / 5)
    this.#token = { value: token.access_token, expiresAt: now + lifetimeMs, refreshAt }
    this.#schedule(refreshAt)
  }

  #schedule (at: number): void {
    clearTimeout(this.#timer)
    if (this.#closed) return
    this.#timer = setTimeout(() => { this.#refresh().catch(() => {}) }, Math.max(0, at - this.#now()))
  }

  #end (ended: SessionEnd | undefined): void {
    this.#stop()
    this.#options.onChange({ kind: 'signed-out', ended })
  }

  #stop (): void {
    clearTimeout(this.#timer)
    this.#token = null
    this.#session = null
  }

  #fromAnotherTab (message: TabMessage): void {
    if (message.type === 'signed-in' && this.#token === null) void this.restore()
    else if (message.type === 'signed-out' && this.#token !== null) this.#end('signed-out-in-another-tab')
    else if (message.type === 'ended' && this.#token !== null) this.#end(message.reason)
  }
}
