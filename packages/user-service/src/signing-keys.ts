import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto'
import { sql, type Kysely } from 'kysely'
import { ACCESS_TOKEN_ALGORITHM } from '@orders/contracts'
import { USERS_SCHEMA, type PublicEcJwk, type UsersDatabase } from './database.ts'

export interface SigningKey {
  kid: string
  privateKeyPem: string
  publicJwk: PublicEcJwk
}

/** A public key as the JWKS publishes it. */
export interface PublishedJwk extends PublicEcJwk {
  kid: string
  alg: typeof ACCESS_TOKEN_ALGORITHM
  use: 'sig'
}

/** A new EC P-256 key pair for ES256; the kid is its RFC 7638 thumbprint. */
export function generateSigningKey (): SigningKey {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const { x, y } = createPublicKey(privateKey).export({ format: 'jwk' })
  if (x === undefined || y === undefined) throw new Error('EC public key without coordinates')
  const publicJwk: PublicEcJwk = { kty: 'EC', crv: 'P-256', x, y }
  return {
    kid: jwkThumbprint(publicJwk),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicJwk
  }
}

/** RFC 7638: SHA-256 over the required members in lexicographic order, base64url. */
function jwkThumbprint ({ crv, kty, x, y }: PublicEcJwk): string {
  return createHash('sha256').update(JSON.stringify({ crv, kty, x, y })).digest('base64url')
}

function publicKeyPem (jwk: PublicEcJwk): string {
  return createPublicKey({ key: { ...jwk }, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString()
}

/**
 * The token-signing keys in users.signing_keys. Tokens are signed with the newest key; every
 * key in the table is published in the JWKS, so a newer key can be added (rotation) while
 * tokens signed with the older one are still valid.
 */
export class SigningKeys {
  readonly #db: Kysely<UsersDatabase>
  /** Signs every token this process issues. */
  readonly current: SigningKey
  /** kid → public key PEM, for verifying tokens; the keys that existed when the process started. */
  readonly #verificationKeys: ReadonlyMap<string, string>

  private constructor (db: Kysely<UsersDatabase>, current: SigningKey, verificationKeys: ReadonlyMap<string, string>) {
    this.#db = db
    this.current = current
    this.#verificationKeys = verificationKeys
  }

  /** Loads the newest key, creating the first one if the table is empty. */
  static async open (db: Kysely<UsersDatabase>): Promise<SigningKeys> {
    const current = await loadOrCreateNewestKey(db)
    const rows = await db.withSchema(USERS_SCHEMA).selectFrom('signing_keys')
      .select(['kid', 'public_jwk'])
      .where('algorithm', '=', ACCESS_TOKEN_ALGORITHM)
      .execute()
    const verificationKeys = new Map(rows.map(row => [row.kid, publicKeyPem(row.public_jwk)]))
    return new SigningKeys(db, current, verificationKeys)
  }

  publicKeyPem (kid: string): string | undefined {
    return this.#verificationKeys.get(kid)
  }

  /** Read from the table on each call, so keys added by another instance show up. */
  async publishedKeys (): Promise<PublishedJwk[]> {
    const rows = await this.#db.withSchema(USERS_SCHEMA).selectFrom('signing_keys')
      .select(['kid', 'public_jwk'])
      .where('algorithm', '=', ACCESS_TOKEN_ALGORITHM)
      .orderBy('created_at', 'desc')
      .orderBy('kid')
      .execute()
    // Copy the public members one by one: whatever else the column might hold stays here.
    return rows.map(({ kid, public_jwk: jwk }) => ({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, kid, alg: ACCESS_TOKEN_ALGORITHM, use: 'sig' as const }))
  }
}

async function loadOrCreateNewestKey (db: Kysely<UsersDatabase>): Promise<SigningKey> {
  return await db.transaction().execute(async trx => {
    // Two instances starting on an empty table must not both create a key: the lock makes the
    // second wait for the first's commit and then find its key. Held only for this transaction.
    await sql`select pg_advisory_xact_lock(hashtext('users.signing_keys'))`.execute(trx)
    const newest = await trx.withSchema(USERS_SCHEMA).selectFrom('signing_keys')
      .select(['kid', 'private_key_pem', 'public_jwk'])
      .where('algorithm', '=', ACCESS_TOKEN_ALGORITHM)
      .orderBy('created_at', 'desc')
      .orderBy('kid')
      .limit(1)
      .executeTakeFirst()
    if (newest) return { kid: newest.kid, privateKeyPem: newest.private_key_pem, publicJwk: newest.public_jwk }

    const key = generateSigningKey()
    await trx.withSchema(USERS_SCHEMA).insertInto('signing_keys')
      .values({ kid: key.kid, algorithm: ACCESS_TOKEN_ALGORITHM, private_key_pem: key.privateKeyPem, public_jwk: JSON.stringify(key.publicJwk) })
      .execute()
    return key
  })
}
