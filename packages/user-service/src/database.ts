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

/** A session: a family of refresh tokens (migrations/users/0004). */
export interface SessionsTable {
  id: Generated<string>
  account_id: string
  created_at: Date
  /** The absolute lifetime: no refresh goes past it. */
  expires_at: Date
  /** Moved on by every refresh, never past expires_at. */
  idle_expires_at: Date
  revoked_at: Date | null
  revoked_reason: SessionRevokedReason | null
}

export type SessionRevokedReason = 'logout' | 'reuse' | 'operator'

export interface RefreshTokensTable {
  /** SHA-256 of the token; the token itself is never stored (refresh-tokens.ts). */
  token_hash: Buffer
  session_id: string
  issued_at: Date
  /** Set when it is exchanged for its successor; presenting it again is reuse. */
  used_at: Date | null
  /** The access token issued with it, denylisted when the session ends. */
  access_token_jti: string
  access_token_expires_at: Date
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
  sessions: SessionsTable
  refresh_tokens: RefreshTokensTable
  outbox: OutboxTable
}
