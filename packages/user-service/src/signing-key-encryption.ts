import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'

/**
 * Private signing keys at rest: AES-256-GCM (node:crypto) under a key-encryption key (KEK)
 * that lives outside the database (env or a mounted file), so a copy of users.signing_keys —
 * a dump, a replica, another service's database login — cannot mint tokens. The kid is the
 * additional authenticated data: a ciphertext moved to another row does not decrypt.
 * Stored form: `aes-256-gcm:v1:<iv>:<tag>:<ciphertext>`, each part base64url.
 */
const PREFIX = 'aes-256-gcm:v1:'
const KEK_BYTES = 32
const IV_BYTES = 12 // the size GCM is specified for (NIST SP 800-38D)

export class SigningKeyDecryptionError extends Error {
  override name = 'SigningKeyDecryptionError'
}

export function isEncrypted (stored: string): boolean {
  return stored.startsWith(PREFIX)
}

export function encryptPrivateKey (pem: string, kid: string, kek: Buffer): string {
  const iv = randomBytes(IV_BYTES)
  const cipher = createCipheriv('aes-256-gcm', kek, iv).setAAD(Buffer.from(kid))
  const ciphertext = Buffer.concat([cipher.update(pem, 'utf8'), cipher.final()])
  return PREFIX + [iv, cipher.getAuthTag(), ciphertext].map(part => part.toString('base64url')).join(':')
}

/** The PEM of a stored private key; plaintext (stored before there was a KEK) passes through. */
export function decryptPrivateKey (stored: string, kid: string, kek: Buffer | undefined): string {
  if (!isEncrypted(stored)) return stored
  if (kek === undefined) {
    throw new SigningKeyDecryptionError('the signing keys in the database are encrypted: set SIGNING_KEY_ENCRYPTION_KEY (or SIGNING_KEY_ENCRYPTION_KEY_FILE) to the key they were encrypted with')
  }
  const [iv = '', tag = '', ciphertext = ''] = stored.slice(PREFIX.length).split(':')
  try {
    const decipher = createDecipheriv('aes-256-gcm', kek, Buffer.from(iv, 'base64url')).setAAD(Buffer.from(kid))
    decipher.setAuthTag(Buffer.from(tag, 'base64url'))
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8')
  } catch {
    throw new SigningKeyDecryptionError(`SIGNING_KEY_ENCRYPTION_KEY does not decrypt the stored signing key ${kid}: it is not the key the signing keys were encrypted with`)
  }
}

/** A fresh KEK, as SIGNING_KEY_ENCRYPTION_KEY expects it (base64 of 32 random bytes). */
export function generateEncryptionKey (): string {
  return randomBytes(KEK_BYTES).toString('base64')
}

/**
 * The KEK from SIGNING_KEY_ENCRYPTION_KEY, or from the file SIGNING_KEY_ENCRYPTION_KEY_FILE
 * names (a mounted secret), base64 of 32 bytes; undefined when neither is set. The messages
 * never quote the value.
 */
export function readEncryptionKey (env: { SIGNING_KEY_ENCRYPTION_KEY?: string, SIGNING_KEY_ENCRYPTION_KEY_FILE?: string }): Buffer | undefined {
  const { SIGNING_KEY_ENCRYPTION_KEY: inline, SIGNING_KEY_ENCRYPTION_KEY_FILE: file } = env
  if (inline !== undefined && inline !== '' && file !== undefined && file !== '') {
    throw new Error('Invalid configuration from the environment:\n  SIGNING_KEY_ENCRYPTION_KEY and SIGNING_KEY_ENCRYPTION_KEY_FILE are both set: set one')
  }
  let text = inline
  let source = 'SIGNING_KEY_ENCRYPTION_KEY'
  if (file !== undefined && file !== '') {
    source = 'SIGNING_KEY_ENCRYPTION_KEY_FILE'
    try {
      text = readFileSync(file, 'utf8')
    } catch (err) {
      throw new Error(`Invalid configuration from the environment:\n  SIGNING_KEY_ENCRYPTION_KEY_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
    }
  }
  if (text === undefined || text === '') return undefined
  const trimmed = text.trim()
  const key = Buffer.from(trimmed, 'base64')
  if (key.length !== KEK_BYTES || !/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed)) {
    throw new Error(`Invalid configuration from the environment:\n  ${source}: must be base64 of ${KEK_BYTES} bytes (e.g. \`openssl rand -base64 32\`)`)
  }
  return key
}
