import type { ColumnType, Generated } from 'kysely'
import type { OutboxTable } from '@orders/outbox'

/** The PostgreSQL schema this service owns (migrations/users). */
export const USERS_SCHEMA = 'users'

export interface AccountsTable {
  id: Generated<string>
  /** As the person typed it; uniqueness and lookups use lower(email). */
  email: string
  password_hash: string
  created_at: ColumnType<Date, never, never>
}

export interface SigningKeysTable {
  kid: string
  algorithm: string
  /** The PKCS#8 PEM, encrypted (signing-key-encryption.ts); plaintext only in development without a key. */
  private_key: string
  /** Public parts only (kty, crv, x, y). */
  public_jwk: ColumnType<PublicEcJwk, string, string>
  created_at: ColumnType<Date, never, never>
  /** Published at once; signs tokens only from this time on (key-rotation.ts). */
  signs_from: ColumnType<Date, Date | undefined, Date>
}

export interface PublicEcJwk {
  kty: 'EC'
  crv: 'P-256'
  x: string
  y: string
}

export interface UsersDatabase {
  accounts: AccountsTable
  signing_keys: SigningKeysTable
  outbox: OutboxTable
}
