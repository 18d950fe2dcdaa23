import type { Kysely, Transaction } from 'kysely'
import type { RevokedAccessToken } from '@orders/platform'
import { USERS_SCHEMA, type SessionRevokedReason, type UsersDatabase } from './database.ts'
import type { PresentedRefreshToken } from './session-rules.ts'

/** A refresh token to store, with the access token issued alongside it. */
export interface IssuedRefreshToken {
  hash: Buffer
  issuedAt: Date
  accessTokenJti: string
  /** Seconds since the epoch, the access token's `exp`. */
  accessTokenExpiresAt: number
}

export interface NewSession {
  id: string
  accountId: string
  createdAt: Date
  expiresAt: Date
  idleExpiresAt: Date
  token: IssuedRefreshToken
}

/** A refresh token found by its hash, its row locked with its session's until the transaction ends. */
export interface LockedRefreshToken extends PresentedRefreshToken {
  sessionId: string
  accountId: string
}

/** What a transaction holding a session's row may write. */
export interface SessionWrites {
  /** Marks `usedHash` used and stores its successor; the session lives on until `idleExpiresAt`. */
  rotate: (change: { sessionId: string, usedHash: Buffer, usedAt: Date, idleExpiresAt: Date, next: IssuedRefreshToken }) => Promise<void>
  revoke: (sessionId: string, reason: SessionRevokedReason, at: Date) => Promise<RevokedAccessToken[]>
}

type Executor = Kysely<UsersDatabase> | Transaction<UsersDatabase>

/** users.sessions and users.refresh_tokens: every SQL statement about sessions lives here. */
export class SessionRepository {
  readonly #db: Kysely<UsersDatabase>

  constructor (db: Kysely<UsersDatabase>) {
    this.#db = db
  }

  /** The session and its first refresh token. */
  async create (session: NewSession): Promise<void> {
    await this.#db.transaction().execute(async trx => {
      await trx.withSchema(USERS_SCHEMA).insertInto('sessions')
        .values({ id: session.id, account_id: session.accountId, created_at: session.createdAt, expires_at: session.expiresAt, idle_expires_at: session.idleExpiresAt })
        .execute()
      await insertToken(trx, session.id, session.token)
    })
  }

  /**
   * Runs `work` in a transaction that holds the token's row and its session's (FOR UPDATE):
   * two refreshes of one session run one after the other, so the second sees the first's
   * rotation and a token is exchanged at most once. Both rows: after waiting for a lock,
   * PostgreSQL reads the new version of the rows it locked only, so a lock on the session
   * alone would let the second see the token still unused.
   */
  async withLockedToken<T> (hash: Buffer, work: (found: LockedRefreshToken | undefined, writes: SessionWrites) => Promise<T>): Promise<T> {
    return await this.#db.transaction().execute(async trx => {
      const row = await trx.withSchema(USERS_SCHEMA).selectFrom('refresh_tokens as t')
        .innerJoin('sessions as s', 's.id', 't.session_id')
        .select(['t.session_id', 't.used_at', 's.account_id', 's.expires_at', 's.idle_expires_at', 's.revoked_at', 's.revoked_reason'])
        .where('t.token_hash', '=', hash)
        .forUpdate(['s', 't'])
        .executeTakeFirst()
      const found = row && {
        sessionId: row.session_id,
        accountId: row.account_id,
        usedAt: row.used_at,
        session: { expiresAt: row.expires_at, idleExpiresAt: row.idle_expires_at, revokedAt: row.revoked_at, revokedReason: row.revoked_reason }
      }
      return await work(found, {
        rotate: async change => { await rotate(trx, change) },
        revoke: async (sessionId, reason, at) => await revoke(trx, sessionId, reason, at)
      })
    })
  }

  /** The session a refresh token belongs to, used or not (sign-out by refresh token). */
  async sessionOfToken (hash: Buffer): Promise<{ id: string, accountId: string } | undefined> {
    const row = await this.#db.withSchema(USERS_SCHEMA).selectFrom('refresh_tokens as t')
      .innerJoin('sessions as s', 's.id', 't.session_id')
      .select(['s.id', 's.account_id'])
      .where('t.token_hash', '=', hash)
      .executeTakeFirst()
    return row && { id: row.id, accountId: row.account_id }
  }

  /**
   * Ends a session of `accountId` (a first end wins: its reason and time stay). Returns the
   * access tokens issued in it that have not expired yet, for the denylist, also when the
   * session had already ended; none when it is not that account's.
   */
  async revoke (sessionId: string, accountId: string, reason: SessionRevokedReason, at: Date): Promise<RevokedAccessToken[]> {
    return await this.#db.transaction().execute(async trx => {
      const owned = await trx.withSchema(USERS_SCHEMA).selectFrom('sessions').select('id')
        .where('id', '=', sessionId).where('account_id', '=', accountId)
        .forUpdate()
        .executeTakeFirst()
      return owned === undefined ? [] : await revoke(trx, sessionId, reason, at)
    })
  }

  /** Deletes up to `limit` sessions past their idle expiry (which is never after their absolute one), with their tokens. */
  async deleteEnded (now: Date, limit: number): Promise<number> {
    const result = await this.#db.withSchema(USERS_SCHEMA).deleteFrom('sessions')
      .where('id', 'in', db => db.selectFrom('sessions').select('id').where('idle_expires_at', '<', now).limit(limit))
      .executeTakeFirst()
    return Number(result.numDeletedRows)
  }

  /** Deletes up to `limit` tokens exchanged before `cutoff` (the idle lifetime ago; doc/security.md says why). */
  async deleteUsedBefore (cutoff: Date, limit: number): Promise<number> {
    const result = await this.#db.withSchema(USERS_SCHEMA).deleteFrom('refresh_tokens')
      .where('token_hash', 'in', db => db.selectFrom('refresh_tokens').select('token_hash').where('used_at', '<', cutoff).limit(limit))
      .executeTakeFirst()
    return Number(result.numDeletedRows)
  }

  /** The unexpired access tokens of sessions that ended since `since`: what the denylist must hold. */
  async accessTokensOfSessionsEndedSince (since: Date, now: Date): Promise<RevokedAccessToken[]> {
    const rows = await this.#db.withSchema(USERS_SCHEMA).selectFrom('refresh_tokens as t')
      .innerJoin('sessions as s', 's.id', 't.session_id')
      .select(['t.access_token_jti', 't.access_token_expires_at'])
      .where('s.revoked_at', '>=', since)
      .where('t.access_token_expires_at', '>', now)
      .execute()
    return rows.map(toRevokedAccessToken)
  }
}

async function rotate (db: Executor, change: { sessionId: string, usedHash: Buffer, usedAt: Date, idleExpiresAt: Date, next: IssuedRefreshToken }): Promise<void> {
  await db.withSchema(USERS_SCHEMA).updateTable('refresh_tokens').set({ used_at: change.usedAt }).where('token_hash', '=', change.usedHash).execute()
  await insertToken(db, change.sessionId, change.next)
  await db.withSchema(USERS_SCHEMA).updateTable('sessions').set({ idle_expires_at: change.idleExpiresAt }).where('id', '=', change.sessionId).execute()
}

async function insertToken (db: Executor, sessionId: string, token: IssuedRefreshToken): Promise<void> {
  await db.withSchema(USERS_SCHEMA).insertInto('refresh_tokens').values({
    token_hash: token.hash,
    session_id: sessionId,
    issued_at: token.issuedAt,
    access_token_jti: token.accessTokenJti,
    access_token_expires_at: toDate(token.accessTokenExpiresAt)
  }).execute()
}

async function revoke (db: Executor, sessionId: string, reason: SessionRevokedReason, at: Date): Promise<RevokedAccessToken[]> {
  await db.withSchema(USERS_SCHEMA).updateTable('sessions')
    .set({ revoked_at: at, revoked_reason: reason })
    .where('id', '=', sessionId).where('revoked_at', 'is', null)
    .execute()
  const rows = await db.withSchema(USERS_SCHEMA).selectFrom('refresh_tokens')
    .select(['access_token_jti', 'access_token_expires_at'])
    .where('session_id', '=', sessionId).where('access_token_expires_at', '>', at)
    .execute()
  return rows.map(toRevokedAccessToken)
}

function toRevokedAccessToken (row: { access_token_jti: string, access_token_expires_at: Date }): RevokedAccessToken {
  return { jti: row.access_token_jti, expiresAt: Math.floor(row.access_token_expires_at.getTime() / 1000) }
}

function toDate (secondsSinceEpoch: number): Date {
  return new Date(secondsSinceEpoch * 1000)
}
