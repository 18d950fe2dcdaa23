/**
 * When a session's refresh token may be exchanged, and what happens otherwise: the rules alone,
 * without SQL (sessions.ts applies them inside the transaction that holds the session's row).
 */
import type { SessionEndReason } from '@orders/contracts'
import type { SessionRevokedReason } from './database.ts'

export interface SessionLifetimes {
  /** A session unused this long ends (SESSION_IDLE_LIFETIME_SECONDS). */
  idleMs: number
  /** No session lasts longer than this from its sign-in (SESSION_ABSOLUTE_LIFETIME_SECONDS). */
  absoluteMs: number
}

export interface SessionState {
  expiresAt: Date
  idleExpiresAt: Date
  revokedAt: Date | null
  revokedReason: SessionRevokedReason | null
}

/** A refresh token as found by its hash, with its session. */
export interface PresentedRefreshToken {
  session: SessionState
  usedAt: Date | null
}

export type RefreshDecision =
  /** Mark it used, issue its successor; the session stays alive until `idleExpiresAt`. */
  | { kind: 'rotate', idleExpiresAt: Date }
  /** A token already exchanged, presented again: someone may hold a copy, so the session ends (RFC 9700 §4.14.2). */
  | { kind: 'end-for-reuse' }
  | { kind: 'refuse', reason: SessionEndReason }

/** The times of a session signed in at `now`. */
export function newSessionTimes (now: Date, lifetimes: SessionLifetimes): { createdAt: Date, expiresAt: Date, idleExpiresAt: Date } {
  const expiresAt = new Date(now.getTime() + lifetimes.absoluteMs)
  return { createdAt: now, expiresAt, idleExpiresAt: nextIdleExpiry(now, expiresAt, lifetimes) }
}

export function decideRefresh (presented: PresentedRefreshToken | undefined, now: Date, lifetimes: SessionLifetimes): RefreshDecision {
  if (presented === undefined) return { kind: 'refuse', reason: 'invalid' }
  const { session } = presented
  if (session.revokedAt !== null) return { kind: 'refuse', reason: endReasonOf(session.revokedReason) }
  // An ended session has nothing left to protect: its tokens are refused, reused or not.
  if (now >= session.expiresAt || now >= session.idleExpiresAt) return { kind: 'refuse', reason: 'expired' }
  if (presented.usedAt !== null) return { kind: 'end-for-reuse' }
  return { kind: 'rotate', idleExpiresAt: nextIdleExpiry(now, session.expiresAt, lifetimes) }
}

/** How a revoked session's end reads to its client. */
export function endReasonOf (revokedReason: SessionRevokedReason | null): SessionEndReason {
  switch (revokedReason) {
    case 'logout': return 'signed_out'
    case 'reuse': return 'reused'
    default: return 'revoked'
  }
}

function nextIdleExpiry (now: Date, expiresAt: Date, lifetimes: SessionLifetimes): Date {
  return new Date(Math.min(now.getTime() + lifetimes.idleMs, expiresAt.getTime()))
}
