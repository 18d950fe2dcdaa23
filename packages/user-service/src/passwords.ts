import { randomBytes } from 'node:crypto'
import argon2 from 'argon2'
import PQueue from 'p-queue'

// argon2id with the library's default cost (m=64 MiB, t=3, p=4: about 130 ms here). The dummy
// hash uses the same cost, so that checking against it takes as long as against a real one.
async function hashPassword (password: string): Promise<string> {
  return await argon2.hash(password, { type: argon2.argon2id })
}

export interface HashingLimits {
  /** Hashes computed at once. One argon2id hash already keeps both cores of this machine busy. */
  concurrency: number
  /** Hashes that may wait, per priority; beyond that a request is refused at once (503). */
  maxWaiting: number
}

/** Refused because too many hashes are waiting: 503 with Retry-After (the error handler adds it). */
export class HashingBusyError extends Error {
  readonly statusCode = 503
  constructor () {
    super('Too many sign-ins and registrations at once; try again in a second')
  }
}

// Sign-ins to an existing account go first: a flood of registrations or of sign-ins to emails
// nobody registered (the cheap anonymous attack) then cannot starve the people who have accounts.
const EXISTING_ACCOUNT = 1
const ANYONE = 0

/**
 * Hashes and checks passwords with argon2id, through one bounded queue (p-queue: its priorities
 * and its count of waiting jobs are what this needs), so hashing cannot starve the process and
 * a flood is refused quickly instead of making everyone wait. Checking a login for an email
 * nobody registered still runs one full verification (against a hash of a random password), so
 * the answer takes as long as a wrong password does and does not tell which emails have accounts.
 */
export class PasswordHasher {
  readonly #dummyHash: string
  readonly #queue: PQueue
  readonly #maxWaiting: number

  private constructor (dummyHash: string, limits: HashingLimits) {
    this.#dummyHash = dummyHash
    this.#queue = new PQueue({ concurrency: limits.concurrency })
    this.#maxWaiting = limits.maxWaiting
  }

  static async create (limits: HashingLimits = { concurrency: 1, maxWaiting: 4 }): Promise<PasswordHasher> {
    return new PasswordHasher(await hashPassword(randomBytes(32).toString('base64')), limits)
  }

  async hash (password: string): Promise<string> {
    return await this.#run(ANYONE, async () => await hashPassword(password))
  }

  /** `hash` undefined means "no such account": verified against the dummy hash, always false. */
  async verify (hash: string | undefined, password: string): Promise<boolean> {
    if (hash === undefined) {
      await this.#run(ANYONE, async () => await argon2.verify(this.#dummyHash, password))
      return false
    }
    return await this.#run(EXISTING_ACCOUNT, async () => await argon2.verify(hash, password))
  }

  async #run<T> (priority: number, job: () => Promise<T>): Promise<T> {
    if (this.#queue.sizeBy({ priority }) >= this.#maxWaiting) throw new HashingBusyError()
    return await this.#queue.add(job, { priority, throwOnTimeout: true })
  }
}
