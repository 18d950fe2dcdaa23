import argon2 from 'argon2'

// argon2id with the library's default cost (m=64 MiB, t=3, p=4: about 130 ms on this 2-core
// machine). One home for it: real hashes, the dummy hash, verifications in the service's process
// and in the hashing worker all use it, so that checking a password against the dummy hash takes
// as long as against a real one.

export async function hashPassword (password: string): Promise<string> {
  return await argon2.hash(password, { type: argon2.argon2id })
}

export async function verifyPassword (hash: string, password: string): Promise<boolean> {
  return await argon2.verify(hash, password)
}
