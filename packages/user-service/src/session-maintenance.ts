import { ACCESS_TOKEN_TTL_SECONDS } from '@orders/contracts'
import type { AccessTokenDenylist, Logger } from '@orders/platform'
import type { SessionRepository } from './session-repository.ts'
import type { SessionLifetimes } from './session-rules.ts'

export interface SessionMaintenanceOptions {
  repository: SessionRepository
  denylist: AccessTokenDenylist
  lifetimes: SessionLifetimes
  /** Default 30 s. */
  everyMs?: number
  log: Logger
  now?: () => Date
}

/** Rows deleted per statement, and statements per round: the work of one round stays small. */
const DELETE_BATCH = 1_000
const BATCHES_PER_ROUND = 10

/**
 * Each replica's periodic work on sessions, so the tables stay bounded and the denylist
 * complete:
 * - sessions past their idle expiry (never later than their absolute one) are deleted with
 *   their tokens; so are tokens exchanged more than the idle lifetime ago (see doc/security.md
 *   for what that gives up);
 * - the access tokens of every session that ended in the last 15 minutes are written to the
 *   denylist in Redis again: those of an end while Redis was unreachable, and of sessions an
 *   operator ended with SQL, reach the verifiers this way.
 * Returns the function that stops it.
 */
export function startSessionMaintenance (options: SessionMaintenanceOptions): () => Promise<void> {
  let running: Promise<void> | undefined
  const timer = setInterval(() => { running ??= runSessionMaintenance(options).finally(() => { running = undefined }) }, options.everyMs ?? 30_000)
  timer.unref()
  return async () => {
    clearInterval(timer)
    await running
  }
}

/** One round (the timer's, or a test's). */
export async function runSessionMaintenance ({ repository, denylist, lifetimes, log, now = () => new Date() }: SessionMaintenanceOptions): Promise<void> {
  const at = now()
  try {
    const sessions = await repeatWhileFull(async () => await repository.deleteEnded(at, DELETE_BATCH))
    const tokens = await repeatWhileFull(async () => await repository.deleteUsedBefore(new Date(at.getTime() - lifetimes.idleMs), DELETE_BATCH))
    if (sessions + tokens > 0) log.info({ sessions, tokens }, 'deleted ended sessions and long-used refresh tokens')
    const ended = await repository.accessTokensOfSessionsEndedSince(new Date(at.getTime() - ACCESS_TOKEN_TTL_SECONDS * 1000), at)
    await denylist.store(ended)
  } catch (err) {
    // Nothing is lost: the next round does the same work.
    log.warn({ err: { message: (err as Error).message } }, 'session maintenance failed; the next round tries again')
  }
}

async function repeatWhileFull (deleteBatch: () => Promise<number>): Promise<number> {
  let total = 0
  for (let round = 0; round < BATCHES_PER_ROUND; round++) {
    const deleted = await deleteBatch()
    total += deleted
    if (deleted < DELETE_BATCH) break
  }
  return total
}
