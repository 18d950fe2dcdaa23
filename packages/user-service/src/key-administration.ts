/**
 * What `pnpm keys` (tools/keys) does to users.signing_keys, next to the rules it must keep:
 * the same encryption, publish delay and retirement as the running user-service.
 */
import type { Kysely } from 'kysely'
import { USERS_SCHEMA, type UsersDatabase } from './database.ts'
import { decryptPrivateKey, isEncrypted, readEncryptionKey } from './signing-key-encryption.ts'
import { retireSupersededKeys, rotateSigningKey, type RotatedKey } from './key-rotation.ts'

export { readEncryptionKey, retireSupersededKeys }
export type { UsersDatabase, RotatedKey }

export interface StoredKeyInfo { kid: string, createdAt: Date, signsFrom: Date, encrypted: boolean }

export async function listSigningKeys (db: Kysely<UsersDatabase>): Promise<StoredKeyInfo[]> {
  const rows = await db.withSchema(USERS_SCHEMA).selectFrom('signing_keys')
    .select(['kid', 'created_at', 'signs_from', 'private_key'])
    .orderBy('signs_from', 'desc')
    .execute()
  return rows.map(row => ({ kid: row.kid, createdAt: row.created_at, signsFrom: row.signs_from, encrypted: isEncrypted(row.private_key) }))
}

/**
 * Adds a key the way the service's schedule does. The KEK must be the one the stored keys are
 * encrypted with (checked on one of them first), and is required once any key is encrypted:
 * a key written in plaintext or under another KEK would stop every replica at its next start.
 */
export async function rotateSigningKeyChecked (db: Kysely<UsersDatabase>, options: { encryptionKey: Buffer | undefined, publishDelayMs: number, production: boolean }): Promise<RotatedKey> {
  if (options.encryptionKey === undefined && options.production) {
    throw new Error('SIGNING_KEY_ENCRYPTION_KEY (or SIGNING_KEY_ENCRYPTION_KEY_FILE) is required when NODE_ENV=production')
  }
  const stored = await db.withSchema(USERS_SCHEMA).selectFrom('signing_keys').select(['kid', 'private_key']).execute()
  const encrypted = stored.find(row => isEncrypted(row.private_key))
  if (encrypted !== undefined) decryptPrivateKey(encrypted.private_key, encrypted.kid, options.encryptionKey)
  return await rotateSigningKey(db, { encryptionKey: options.encryptionKey, publishDelayMs: options.publishDelayMs })
}
