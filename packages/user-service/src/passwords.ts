import { randomBytes } from 'node:crypto'
import argon2 from 'argon2'

// argon2id with the library's default cost (m=64 MiB, t=3, p=4: about 130 ms here). The dummy
// hash uses the same cost, so that checking against it takes as long as against a real one.
async function hashPassword (password: string): Promise<string> {
  return await argon2.hash(password, { type: argon2.argon2id })
}

/**
 * Hashes and checks passwords with argon2id. Checking a login for an email nobody registered
 * still runs one full verification (against a hash of a random password), so the answer takes
 * as long as a wrong password does and does not tell which emails have accounts.
 */
export class PasswordHasher {
  readonly #dummyHash: string

  private constructor (dummyHash: string) {
    this.#dummyHash = dummyHash
  }

  static async create (): Promise<PasswordHasher> {
    return new PasswordHasher(await hashPassword(randomBytes(32).toString('base64')))
  }

  async hash (password: string): Promise<string> {
    return await hashPassword(password)
  }

  /** `hash` undefined means "no such account": verified against the dummy hash, always false. */
  async verify (hash: string | undefined, password: string): Promise<boolean> {
    if (hash === undefined) {
      await argon2.verify(this.#dummyHash, password)
      return false
    }
    return await argon2.verify(hash, password)
  }
}
