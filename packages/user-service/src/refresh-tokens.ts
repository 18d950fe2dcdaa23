import { createHash, randomBytes } from 'node:crypto'

/** 256 random bits (RFC 9700 §4.14: refresh tokens must not be guessable), 43 base64url characters. */
const TOKEN_BYTES = 32

/** A new opaque refresh token and the hash that is stored in its place. */
export function newRefreshToken (): { token: string, hash: Buffer } {
  const token = randomBytes(TOKEN_BYTES).toString('base64url')
  return { token, hash: hashRefreshToken(token) }
}

/**
 * SHA-256, not argon2: a slow hash protects secrets people choose, which are few enough to try
 * one by one. A refresh token is 256 random bits; a stolen table of their hashes cannot be
 * reversed by trying candidates (2^256 of them), so a fast hash loses nothing, and a lookup by
 * hash stays one index probe instead of an argon2 run per refresh. No salt for the same
 * reason: equal hashes only ever come from equal tokens.
 */
export function hashRefreshToken (token: string): Buffer {
  return createHash('sha256').update(token).digest()
}
