import { sql, type Kysely } from 'kysely'
import { ACCESS_TOKEN_TTL_SECONDS } from '@orders/contracts'
import { USERS_SCHEMA, type UsersDatabase } from './database.ts'
import { generateSigningKey, insertSigningKey, lockSigningKeys } from './signing-keys.ts'

/**
 * How a signing key is replaced without refusing a valid token (doc/security.md, "Key rotation"):
 * 1. a new key is inserted, published in the JWKS at once, and signs from `signs_from`,
 *    `publishDelayMs` later: longer than any verifier takes to refetch the set;
 * 2. from then on tokens are signed with it; the older key still verifies the tokens it signed;
 * 3. once those have expired (the token lifetime after the new key took over, plus the clock
 *    skew verifiers allow), the older key — private and public part — is deleted.
 */
export interface RotationOptions {
  encryptionKey?: Buffer
  /** From insertion until the key signs (SIGNING_KEY_PUBLISH_DELAY_SECONDS). */
  publishDelayMs: number
  now?: () => number
}

/** Verifiers accept an `iat` up to 30 s ahead (access-token-claims.ts); a minute covers that skew. */
const CLOCK_SKEW_MS = 60_000

export interface RotatedKey { kid: string, signsFrom: Date }

/** Adds a new signing key that signs once the publish delay has passed. */
export async function rotateSigningKey (db: Kysely<UsersDatabase>, options: RotationOptions): Promise<RotatedKey> {
  const now = (options.now ?? Date.now)()
  const key = generateSigningKey()
  const signsFrom = new Date(now + options.publishDelayMs)
  await db.transaction().execute(async trx => {
    await lockSigningKeys(trx)
    await insertSigningKey(trx, key, signsFrom, options.encryptionKey)
  })
  return { kid: key.kid, signsFrom }
}

/**
 * Deletes every key that a newer key replaced longer ago than the longest token lifetime:
 * no valid token can name it any more. The key that signs now is never deleted.
 */
export async function retireSupersededKeys (db: Kysely<UsersDatabase>, options: { now?: () => number, tokenLifetimeMs?: number } = {}): Promise<string[]> {
  const now = (options.now ?? Date.now)()
  const cutoff = new Date(now - (options.tokenLifetimeMs ?? ACCESS_TOKEN_TTL_SECONDS * 1000) - CLOCK_SKEW_MS)
  const retired = await db.withSchema(USERS_SCHEMA).deleteFrom('signing_keys as older')
    .where(eb => eb.exists(eb.selectFrom('signing_keys as newer').select(sql`1`.as('one'))
      .whereRef('newer.signs_from', '>', 'older.signs_from')
      .where('newer.signs_from', '<=', cutoff)))
    .returning('older.kid')
    .execute()
  return retired.map(row => row.kid)
}

/**
 * The scheduled rotation (SIGNING_KEY_ROTATION_INTERVAL_SECONDS): adds a key when the newest
 * is older than the interval. Replicas all run it; the lock and the check inside it make one
 * of them add the key and the others find it.
 */
export async function rotateIfDue (db: Kysely<UsersDatabase>, options: RotationOptions & { intervalMs: number }): Promise<RotatedKey | undefined> {
  const now = (options.now ?? Date.now)()
  return await db.transaction().execute(async trx => {
    await lockSigningKeys(trx)
    const newest = await trx.withSchema(USERS_SCHEMA).selectFrom('signing_keys')
      .select(eb => eb.fn.max('created_at').as('created_at'))
      .executeTakeFirst()
    const createdAt = newest?.created_at as Date | null | undefined
    if (createdAt !== null && createdAt !== undefined && now - createdAt.getTime() < options.intervalMs) return undefined
    const key = generateSigningKey()
    const signsFrom = new Date(now + options.publishDelayMs)
    await insertSigningKey(trx, key, signsFrom, options.encryptionKey)
    return { kid: key.kid, signsFrom }
  })
}
