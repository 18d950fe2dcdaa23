import type { Redis } from 'ioredis'
import type { Logger } from './logging.ts'

/** A revoked access token: its `jti`, and its `exp` (seconds), after which nobody needs to remember it. */
export interface RevokedAccessToken {
  jti: string
  expiresAt: number
}

export interface AccessTokenDenylistOptions {
  /** Shared by every verifier; without it the list is this process's alone (tests). */
  redis?: Redis
  log: Logger
  /** How often the whole list is read again, in case a message was missed (default 30 s). */
  reconcileEveryMs?: number
  /** Seconds since the epoch (tests move it). */
  nowSeconds?: () => number
}

/** A sorted set of revoked jti scored by their exp, under the client's key prefix. */
const SET_KEY = 'revoked-access-tokens'
/** Members per ZADD when catching up, so one command stays small. */
const STORE_BATCH = 1_000

/**
 * The access tokens revoked before they expire, held in memory by every verifier so a request
 * costs a map lookup and no I/O. Redis carries them between processes: a sorted set (jti
 * scored by exp) that a verifier reads at start and again every reconcile interval, and a
 * pub/sub channel that brings each new revocation within milliseconds. An entry is dropped once
 * its token has expired anyway, so the list only ever holds the last 15 minutes of revocations.
 *
 * While Redis is unreachable a verifier keeps what it holds and learns nothing new; it reads the
 * whole set again as soon as Redis is back. Refusing every token instead would turn a Redis
 * outage into everyone signed out (doc/security.md, "Revoking access tokens").
 */
export class AccessTokenDenylist {
  readonly #redis: Redis | undefined
  readonly #subscriber: Redis | undefined
  readonly #channel: string
  readonly #log: Logger
  readonly #nowSeconds: () => number
  readonly #revoked = new Map<string, number>()
  readonly #listeners = new Set<(jti: string) => void>()
  readonly #reconcileOnReady = () => { void this.reconcile() }
  #reconcileTimer: NodeJS.Timeout | undefined

  private constructor (options: AccessTokenDenylistOptions) {
    this.#redis = options.redis
    this.#log = options.log
    this.#nowSeconds = options.nowSeconds ?? (() => Date.now() / 1000)
    // ioredis prefixes keys, not pub/sub channels: the prefix keeps systems sharing a Redis apart.
    this.#channel = `${options.redis?.options.keyPrefix ?? ''}${SET_KEY}`
    if (options.redis !== undefined) {
      // A connection of its own: one that subscribes can send nothing else. It queues its
      // SUBSCRIBE until connected, and ioredis subscribes again after every reconnect.
      this.#subscriber = options.redis.duplicate({ enableOfflineQueue: true })
      this.#subscriber.on('error', () => {}) // the main client logs Redis's state changes
      this.#subscriber.on('message', (_channel: string, message: string) => { this.#receive(message) })
      this.#subscriber.subscribe(this.#channel).catch(() => {})
      // Whatever was published while either connection was away: read the whole set again.
      this.#subscriber.on('ready', this.#reconcileOnReady)
      options.redis.on('ready', this.#reconcileOnReady)
    }
  }

  /**
   * Subscribes and reads the list. A Redis still connecting gets a second to answer; one that
   * does not answer does not hold up the start (the list is read when it does).
   */
  static async open (options: AccessTokenDenylistOptions): Promise<AccessTokenDenylist> {
    const denylist = new AccessTokenDenylist(options)
    if (options.redis !== undefined) {
      await readyWithin(options.redis, 1_000)
      await denylist.reconcile()
      denylist.#reconcileTimer = setInterval(() => { void denylist.reconcile() }, options.reconcileEveryMs ?? 30_000)
      denylist.#reconcileTimer.unref()
    }
    return denylist
  }

  /** True when the token `jti` was revoked. A map lookup: every request asks. */
  isRevoked (jti: string): boolean {
    return this.#revoked.has(jti)
  }

  /** How many revoked tokens this process holds (tests, metrics). */
  get size (): number {
    return this.#revoked.size
  }

  /** Called with the jti of each token revoked from now on (the WebSocket closes its sockets). */
  onRevoked (listener: (jti: string) => void): () => void {
    this.#listeners.add(listener)
    return () => { this.#listeners.delete(listener) }
  }

  /**
   * Revokes the tokens here at once, and for every verifier through Redis. Rejects when Redis
   * did not take them; the caller decides whether that matters (the user-service catches up
   * from its database, session-maintenance.ts).
   */
  async revoke (tokens: readonly RevokedAccessToken[]): Promise<void> {
    const now = this.#nowSeconds()
    const live = tokens.filter(token => token.expiresAt > now)
    for (const token of live) this.#add(token.jti, token.expiresAt)
    if (this.#redis === undefined || live.length === 0) return
    const pipeline = this.#redis.multi()
      .zremrangebyscore(SET_KEY, '-inf', `(${Math.floor(now)}`)
      .zadd(SET_KEY, ...live.flatMap(token => [token.expiresAt, token.jti]))
    for (const token of live) pipeline.publish(this.#channel, `${token.jti} ${token.expiresAt}`)
    const results = await pipeline.exec()
    const failed = results?.find(([err]) => err !== null)
    if (results === null || failed !== undefined) throw failed?.[0] ?? new Error('Redis did not run the revocation')
  }

  /**
   * Makes sure Redis holds these revocations, without announcing them: verifiers read them at
   * their next reconcile. For catching up after Redis was unreachable (a repeat is harmless).
   */
  async store (tokens: readonly RevokedAccessToken[]): Promise<void> {
    const now = this.#nowSeconds()
    const live = tokens.filter(token => token.expiresAt > now)
    for (const token of live) this.#add(token.jti, token.expiresAt)
    if (this.#redis === undefined) return
    for (let i = 0; i < live.length; i += STORE_BATCH) {
      await this.#redis.zadd(SET_KEY, ...live.slice(i, i + STORE_BATCH).flatMap(token => [token.expiresAt, token.jti]))
    }
  }

  /** Reads the whole set from Redis into memory, and forgets what has expired. */
  async reconcile (): Promise<void> {
    const now = this.#nowSeconds()
    for (const [jti, expiresAt] of this.#revoked) if (expiresAt <= now) this.#revoked.delete(jti)
    if (this.#redis === undefined || this.#redis.status !== 'ready') return
    try {
      const flat = await this.#redis.zrangebyscore(SET_KEY, `(${Math.floor(now)}`, '+inf', 'WITHSCORES')
      for (let i = 0; i + 1 < flat.length; i += 2) this.#add(flat[i]!, Number(flat[i + 1]))
    } catch (err) {
      this.#log.warn({ err: { message: (err as Error).message } }, 'could not read the revoked access tokens from Redis; those already known stay revoked')
    }
  }

  async close (): Promise<void> {
    clearInterval(this.#reconcileTimer)
    this.#redis?.off('ready', this.#reconcileOnReady)
    this.#subscriber?.disconnect()
  }

  #receive (message: string): void {
    const [jti, expiresAt] = message.split(' ')
    if (jti === undefined || expiresAt === undefined || !Number.isFinite(Number(expiresAt))) return
    this.#add(jti, Number(expiresAt))
  }

  #add (jti: string, expiresAt: number): void {
    if (this.#revoked.has(jti) || expiresAt <= this.#nowSeconds()) return
    this.#revoked.set(jti, expiresAt)
    for (const listener of this.#listeners) listener(jti)
  }
}

async function readyWithin (redis: Redis, ms: number): Promise<void> {
  if (redis.status === 'ready') return
  await new Promise<void>(resolve => {
    const done = () => { clearTimeout(timer); redis.off('ready', done); resolve() }
    const timer = setTimeout(done, ms)
    redis.once('ready', done)
  })
}
