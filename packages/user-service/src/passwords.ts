import { randomBytes } from 'node:crypto'
import { extname } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyBaseLogger } from 'fastify'
import PQueue from 'p-queue'
import workerpool, { type Pool } from 'workerpool'
import { verifyPassword } from './argon2id.ts'

export interface HashingLimits {
  /** Sign-ins to existing accounts verified at once. One argon2id hash already keeps both cores of this machine busy. */
  concurrency: number
  /** Hashes that may wait, in each of the two lanes; beyond that a request is refused at once (503). */
  maxWaiting: number
}

/** Refused because too many hashes are waiting: 503 with Retry-After (the error handler adds it). */
export class HashingBusyError extends Error {
  readonly statusCode = 503
  constructor () {
    super('Too many sign-ins and registrations at once; try again in a second')
  }
}

/** The hashing worker stopped while it held this request: 503 with Retry-After, as above. */
export class HashingInterruptedError extends Error {
  readonly statusCode = 503
  constructor () {
    super('Checking the password was interrupted; nothing was changed. Try again in a second')
  }
}

// hashing-worker.ts beside this file: src/…ts through tsx in development and tests, dist/…js in production.
const OWN_EXTENSION = extname(fileURLToPath(import.meta.url))
const HASHING_WORKER = fileURLToPath(new URL(`./hashing-worker${OWN_EXTENSION}`, import.meta.url))

/**
 * The process that hashes for anonymous requests, at nice 19: on Linux a thread takes its nice
 * from the thread that creates it, so the worker is started through `nice` (not reniced once it
 * runs), and every thread it ever has (V8's, libuv's pool, argon2's lanes) runs at 19.
 * workerpool restarts it when it dies (minWorkers) and rejects the task it held.
 */
function startHashingWorker (): Pool {
  return workerpool.pool(HASHING_WORKER, {
    workerType: 'process',
    minWorkers: 1,
    maxWorkers: 1,
    forkOpts: { execPath: 'nice', execArgv: ['-n', '19', process.execPath, ...(OWN_EXTENSION === '.ts' ? ['--import', 'tsx'] : [])] }
  })
}

/**
 * Hashes and checks passwords with argon2id, in two lanes, each bounded, so a flood is refused
 * quickly (503) instead of making everyone wait:
 * - sign-ins to existing accounts, in this process at its normal priority (a p-queue);
 * - anonymous work (registrations, sign-ins for emails nobody registered), in the hashing worker,
 *   one at a time, at the lowest CPU priority: it runs only on CPU that nothing else here wants,
 *   so a real sign-in neither waits for nor shares the cores with a flood of anonymous requests.
 * Checking a login for an unknown email still runs one full verification (against a dummy hash
 * of a random password, the same cost), so when the machine is quiet the answer takes as long as
 * a wrong password's and does not tell which emails have accounts.
 */
export class PasswordHasher {
  readonly #dummyHash: string
  readonly #existingAccounts: PQueue
  readonly #anonymous: Pool
  readonly #maxWaiting: number
  readonly #log: FastifyBaseLogger | undefined
  #closing = false

  private constructor (dummyHash: string, anonymous: Pool, limits: HashingLimits, log: FastifyBaseLogger | undefined) {
    this.#dummyHash = dummyHash
    this.#anonymous = anonymous
    this.#existingAccounts = new PQueue({ concurrency: limits.concurrency })
    this.#maxWaiting = limits.maxWaiting
    this.#log = log
  }

  /** Starts the hashing worker; `close()` stops it. */
  static async create (limits: HashingLimits = { concurrency: 1, maxWaiting: 4 }, log?: FastifyBaseLogger): Promise<PasswordHasher> {
    const anonymous = startHashingWorker()
    try {
      // Made by the worker: this also proves at start that the worker runs.
      const dummyHash = await anonymous.exec('hash', [randomBytes(32).toString('base64')]) as string
      return new PasswordHasher(dummyHash, anonymous, limits, log)
    } catch (err) {
      await anonymous.terminate(true)
      throw new Error(`The password-hashing worker did not start: ${(err as Error).message}`)
    }
  }

  async hash (password: string): Promise<string> {
    return await this.#inWorker('hash', [password]) as string
  }

  /** `hash` undefined means "no such account": verified against the dummy hash, always false. */
  async verify (hash: string | undefined, password: string): Promise<boolean> {
    if (hash === undefined) {
      await this.#inWorker('verify', [this.#dummyHash, password])
      return false
    }
    if (this.#existingAccounts.size >= this.#maxWaiting) throw new HashingBusyError()
    return await this.#existingAccounts.add(async () => await verifyPassword(hash, password), { throwOnTimeout: true })
  }

  /** Stops the worker once the hash it holds is done. */
  async close (): Promise<void> {
    this.#closing = true
    await this.#anonymous.terminate()
  }

  async #inWorker (method: 'hash' | 'verify', params: string[]): Promise<unknown> {
    // Our own count, not workerpool's maxQueueSize: that one takes 0 to mean "no limit".
    if (this.#anonymous.stats().pendingTasks >= this.#maxWaiting) throw new HashingBusyError()
    try {
      return await this.#anonymous.exec(method, params)
    } catch (err) {
      if (!(err instanceof workerpool.TerminateError) || this.#closing) throw err
      this.#log?.error({ err }, 'the hashing worker stopped while it held a request (answered 503); a new one starts')
      throw new HashingInterruptedError()
    }
  }
}
