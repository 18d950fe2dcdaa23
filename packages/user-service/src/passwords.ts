import { randomBytes } from 'node:crypto'
import argon2 from 'argon2'

/** argon2 cost parameters; production uses the library's argon2id defaults (m=64 MiB, t=3, p=4). */
export interface PasswordHashingCost {
  memoryCost?: number
  timeCost?: number
  parallelism?: number
}

/**
 * Hashes and checks passwords with argon2id. Checking a login for an email nobody registered
 * still runs one full verification (against a hash of a random password), so the answer takes
 * as long as a wrong password does and does not tell which emails have accounts.
 */
export class PasswordHasher {
  readonly #cost: PasswordHashingCost
  readonly #dummyHash: string

  private constructor (cost: PasswordHashingCost, dummyHash: string) {
    this.#cost = cost
    this.#dummyHash = dummyHash
  }

  static async create (cost: PasswordHashingCost = {}): Promise<PasswordHasher> {
    const dummyHash = await argon2.hash(randomBytes(32).toString('base64'), { ...cost, type: argon2.argon2id })
    return new PasswordHasher(cost, dummyHash)
  }

  async hash (password: string): Promise<string> {
    return await argon2.hash(password, { ...this.#cost, type: argon2.argon2id })
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
