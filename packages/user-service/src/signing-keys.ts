import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto'
import { sql, type Kysely, type Transaction } from 'kysely'
import { ACCESS_TOKEN_ALGORITHM } from '@orders/contracts'
import { USERS_SCHEMA, type PublicEcJwk, type UsersDatabase } from './database.ts'
import { decryptPrivateKey, encryptPrivateKey, isEncrypted } from './signing-key-encryption.ts'

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

export interface SigningKeysOptions {
  /** The key-encryption key; without it (development only) keys are stored in plaintext. */
  encryptionKey?: Buffer
  /** The clock (tests move it). */
  now?: () => number
  /** An unknown kid reloads the table at most once per this interval (a forged kid costs a map lookup otherwise). */
  minReloadIntervalMs?: number
}

interface LoadedKey { kid: string, privateKeyPem: string, publicKeyPem: string, signsFrom: number }

/** Serializes the key writes of every instance (first key, encryption, rotation). */
export async function lockSigningKeys (trx: Transaction<UsersDatabase>): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext('users.signing_keys'))`.execute(trx)
}

/** Inserts a key, its private part encrypted when there is a KEK. */
export async function insertSigningKey (db: Kysely<UsersDatabase>, key: SigningKey, signsFrom: Date, encryptionKey: Buffer | undefined): Promise<void> {
  const stored = encryptionKey === undefined ? key.privateKeyPem : encryptPrivateKey(key.privateKeyPem, key.kid, encryptionKey)
  await db.withSchema(USERS_SCHEMA).insertInto('signing_keys')
    .values({ kid: key.kid, algorithm: ACCESS_TOKEN_ALGORITHM, private_key: stored, public_jwk: JSON.stringify(key.publicJwk), signs_from: signsFrom })
    .execute()
}

/**
 * The token-signing keys of users.signing_keys, as this process knows them. Tokens are signed
 * with the newest key whose `signs_from` has passed; a newer key is published (JWKS) from its
 * insertion, before it signs (key-rotation.ts). Every replica shares the table: `reload()`
 * runs periodically (app.ts) and when a token names a kid this process does not know yet, so
 * a key another replica or `pnpm keys rotate` added verifies here too.
 */
export class SigningKeys {
  readonly #db: Kysely<UsersDatabase>
  readonly #options: SigningKeysOptions
  #keys = new Map<string, LoadedKey>()
  #lastReloadAt = -Infinity
  #reloading: Promise<void> | undefined

  private constructor (db: Kysely<UsersDatabase>, options: SigningKeysOptions) {
    this.#db = db
    this.#options = options
  }

  /**
   * Creates the first key if the table is empty, encrypts keys stored in plaintext when there
   * is a KEK, and loads every key. Throws SigningKeyDecryptionError when the KEK is missing
   * or wrong for the stored keys: the process must not start.
   */
  static async open (db: Kysely<UsersDatabase>, options: SigningKeysOptions = {}): Promise<SigningKeys> {
    const keys = new SigningKeys(db, options)
    await db.transaction().execute(async trx => {
      // Two instances starting on an empty table must not both create a key, nor both encrypt
      // one row: the second waits for the first's commit. Held only for this transaction.
      await lockSigningKeys(trx)
      const rows = await trx.withSchema(USERS_SCHEMA).selectFrom('signing_keys').select(['kid', 'private_key']).execute()
      if (rows.length === 0) {
        // The first key signs at once: no verifier holds an older set to miss it from.
        await insertSigningKey(trx, generateSigningKey(), new Date(keys.#now()), options.encryptionKey)
        return
      }
      for (const row of rows) {
        const pem = decryptPrivateKey(row.private_key, row.kid, options.encryptionKey)
        if (options.encryptionKey !== undefined && !isEncrypted(row.private_key)) {
          await trx.withSchema(USERS_SCHEMA).updateTable('signing_keys')
            .set({ private_key: encryptPrivateKey(pem, row.kid, options.encryptionKey) })
            .where('kid', '=', row.kid)
            .execute()
        }
      }
    })
    await keys.reload()
    return keys
  }

  #now (): number { return (this.#options.now ?? Date.now)() }

  /** Reads every key from the table (shared with a reload in flight). */
  async reload (): Promise<void> {
    this.#reloading ??= this.#load().finally(() => { this.#reloading = undefined })
    await this.#reloading
  }

  async #load (): Promise<void> {
    this.#lastReloadAt = this.#now()
    const rows = await this.#db.withSchema(USERS_SCHEMA).selectFrom('signing_keys')
      .select(['kid', 'private_key', 'public_jwk', 'signs_from'])
      .where('algorithm', '=', ACCESS_TOKEN_ALGORITHM)
      .execute()
    const keys = new Map<string, LoadedKey>()
    for (const row of rows) {
      const known = this.#keys.get(row.kid)
      keys.set(row.kid, known ?? {
        kid: row.kid,
        privateKeyPem: decryptPrivateKey(row.private_key, row.kid, this.#options.encryptionKey),
        publicKeyPem: publicKeyPem(row.public_jwk),
        signsFrom: row.signs_from.getTime()
      })
    }
    this.#keys = keys
  }

  /** The key that signs now: the newest whose signs_from has passed. */
  get current (): { kid: string, privateKeyPem: string } {
    const now = this.#now()
    let current: LoadedKey | undefined
    for (const key of this.#keys.values()) {
      if (key.signsFrom > now) continue
      if (current === undefined || key.signsFrom > current.signsFrom || (key.signsFrom === current.signsFrom && key.kid < current.kid)) current = key
    }
    if (current === undefined) throw new Error('no signing key is active yet')
    return current
  }

  /** The public key PEM of `kid`; an unknown kid reloads the table first (at most once per interval). */
  async publicKeyPem (kid: string): Promise<string | undefined> {
    const known = this.#keys.get(kid)
    if (known !== undefined) return known.publicKeyPem
    const minInterval = this.#options.minReloadIntervalMs ?? 1_000
    if (this.#reloading === undefined && this.#now() - this.#lastReloadAt < minInterval) return undefined
    await this.reload()
    return this.#keys.get(kid)?.publicKeyPem
  }

  /** Read from the table on each call, so keys added by another instance show up. */
  async publishedKeys (): Promise<PublishedJwk[]> {
    const rows = await this.#db.withSchema(USERS_SCHEMA).selectFrom('signing_keys')
      .select(['kid', 'public_jwk'])
      .where('algorithm', '=', ACCESS_TOKEN_ALGORITHM)
      .orderBy('signs_from', 'desc')
      .orderBy('kid')
      .execute()
    // Copy the public members one by one: whatever else the column might hold stays here.
    return rows.map(({ kid, public_jwk: jwk }) => ({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, kid, alg: ACCESS_TOKEN_ALGORITHM, use: 'sig' as const }))
  }
}
