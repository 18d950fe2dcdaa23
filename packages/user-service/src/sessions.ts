import { randomUUID } from 'node:crypto'
import { SCOPES, type SessionEndReason } from '@orders/contracts'
import type { AccessTokenDenylist, Logger, RevokedAccessToken } from '@orders/platform'
import { hashRefreshToken, newRefreshToken } from './refresh-tokens.ts'
import { decideRefresh, newSessionTimes, type SessionLifetimes } from './session-rules.ts'
import type { SessionRepository } from './session-repository.ts'

/** An access token as the authentication plugin signs it: the token, its jti and exp (seconds). */
export interface IssuedAccessToken {
  token: string
  jti: string
  expiresAt: number
}

export type IssueAccessToken = (claims: { sub: string, scope: string, sid: string }) => IssuedAccessToken

export interface SignedIn {
  accessToken: IssuedAccessToken
  refreshToken: string
  /** The session's absolute end: the refresh cookie lasts as long. */
  sessionExpiresAt: Date
}

export type RefreshOutcome = ({ refreshed: true } & SignedIn) | { refreshed: false, reason: SessionEndReason }

export interface SessionsOptions {
  repository: SessionRepository
  denylist: AccessTokenDenylist
  lifetimes: SessionLifetimes
  issueAccessToken: IssueAccessToken
  log: Logger
  /** The clock (tests move it). */
  now?: () => Date
}

/**
 * A person's sessions: sign-in starts one, each refresh exchanges its refresh token for the
 * next one and a new access token, and sign-out (or a reused token) ends it, denylisting the
 * access tokens it issued that have not expired yet. Rules: session-rules.ts; SQL:
 * session-repository.ts.
 */
export class Sessions {
  readonly #repository: SessionRepository
  readonly #denylist: AccessTokenDenylist
  readonly #lifetimes: SessionLifetimes
  readonly #issueAccessToken: IssueAccessToken
  readonly #log: Logger
  readonly #now: () => Date

  constructor (options: SessionsOptions) {
    this.#repository = options.repository
    this.#denylist = options.denylist
    this.#lifetimes = options.lifetimes
    this.#issueAccessToken = options.issueAccessToken
    this.#log = options.log
    this.#now = options.now ?? (() => new Date())
  }

  async signIn (accountId: string): Promise<SignedIn> {
    const now = this.#now()
    const times = newSessionTimes(now, this.#lifetimes)
    // The access token names its session (sid), so the id is chosen before the row is written.
    const id = randomUUID()
    const accessToken = this.#issueAccessToken({ sub: accountId, scope: SCOPES.user, sid: id })
    const refresh = newRefreshToken()
    await this.#repository.create({
      id,
      accountId,
      ...times,
      token: { hash: refresh.hash, issuedAt: now, accessTokenJti: accessToken.jti, accessTokenExpiresAt: accessToken.expiresAt }
    })
    return { accessToken, refreshToken: refresh.token, sessionExpiresAt: times.expiresAt }
  }

  /** Exchanges a refresh token (once: a second time ends the session). */
  async refresh (presented: string): Promise<RefreshOutcome> {
    const usedHash = hashRefreshToken(presented)
    const { outcome, revoked } = await this.#repository.withLockedToken(usedHash, async (found, writes) => {
      const now = this.#now()
      const decision = decideRefresh(found, now, this.#lifetimes)
      if (decision.kind === 'refuse') return { outcome: { refreshed: false as const, reason: decision.reason }, revoked: [] }
      if (decision.kind === 'end-for-reuse') {
        const revoked = await writes.revoke(found!.sessionId, 'reuse', now)
        this.#log.warn({ session_id: found!.sessionId, account_id: found!.accountId }, 'a used refresh token was presented again: its session is ended')
        return { outcome: { refreshed: false as const, reason: 'reused' as const }, revoked }
      }
      const accessToken = this.#issueAccessToken({ sub: found!.accountId, scope: SCOPES.user, sid: found!.sessionId })
      const next = newRefreshToken()
      await writes.rotate({
        sessionId: found!.sessionId,
        usedHash,
        usedAt: now,
        idleExpiresAt: decision.idleExpiresAt,
        next: { hash: next.hash, issuedAt: now, accessTokenJti: accessToken.jti, accessTokenExpiresAt: accessToken.expiresAt }
      })
      return { outcome: { refreshed: true as const, accessToken, refreshToken: next.token, sessionExpiresAt: found!.session.expiresAt }, revoked: [] }
    })
    await this.#denylistAll(revoked)
    return outcome
  }

  /** Ends the session `sessionId` of `accountId` (signing out); also `accessToken`, whatever the session. */
  async end (sessionId: string, accountId: string, accessToken?: RevokedAccessToken): Promise<void> {
    const revoked = await this.#repository.revoke(sessionId, accountId, 'logout', this.#now())
    await this.#denylistAll(accessToken === undefined ? revoked : [...revoked, accessToken])
  }

  /** Ends the session a refresh token belongs to, used or not; an unknown token ends nothing. */
  async endByRefreshToken (presented: string): Promise<void> {
    const session = await this.#repository.sessionOfToken(hashRefreshToken(presented))
    if (session !== undefined) await this.end(session.id, session.accountId)
  }

  /**
   * A Redis that does not answer does not undo the end: the session is over in PostgreSQL, and
   * session-maintenance.ts adds its access tokens to the denylist once Redis answers again.
   */
  async #denylistAll (tokens: RevokedAccessToken[]): Promise<void> {
    if (tokens.length === 0) return
    await this.#denylist.revoke(tokens).catch((err: Error) => {
      this.#log.warn({ err: { message: err.message } }, 'could not denylist the ended session\'s access tokens in Redis; session maintenance retries')
    })
  }
}
