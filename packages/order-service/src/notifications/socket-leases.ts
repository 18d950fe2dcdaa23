import { randomUUID } from 'node:crypto'
import type { Logger, Redis } from '@orders/platform'

// One sorted set per user: a member per open socket (replica and socket id), scored by when its
// lease runs out. Expired members are dropped before counting, so the sockets of a replica that
// crashed stop counting once their leases run out, without anyone cleaning up after it.
const ACQUIRE = `
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
  if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  return 1
`

export interface SocketLeasesOptions {
  redis?: Redis
  /** Open sockets one user may hold across every replica. */
  maxPerUser: number
  /** A lease not renewed for this long no longer counts (a crashed replica's sockets). */
  leaseMs?: number
  log: Logger
}

/**
 * Counts each user's open WebSockets across replicas in Redis. While Redis is unreachable the
 * count falls back to this replica's own sockets (the same cap, per replica), as the rate limits
 * do (doc/security.md): neither unlimited nor refusing everyone.
 */
export class SocketLeases {
  readonly #redis?: Redis
  readonly #max: number
  readonly #leaseMs: number
  readonly #log: Logger
  readonly #held = new Map<string, Set<string>>()
  readonly #renewal: NodeJS.Timeout

  constructor (options: SocketLeasesOptions) {
    this.#redis = options.redis
    this.#max = options.maxPerUser
    this.#leaseMs = options.leaseMs ?? 90_000
    this.#log = options.log
    this.#renewal = setInterval(() => { void this.#renew() }, this.#leaseMs / 3)
    this.#renewal.unref()
  }

  /** A lease id when the user may open one more socket, undefined when at the cap. */
  async acquire (userId: string): Promise<string | undefined> {
    const leaseId = randomUUID()
    const local = this.#held.get(userId) ?? new Set<string>()
    let granted: boolean
    try {
      if (this.#redis?.status !== 'ready') throw new Error('Redis is not connected')
      const now = Date.now()
      granted = await this.#redis.eval(ACQUIRE, 1, key(userId), now, now + this.#leaseMs, this.#max, leaseId, this.#leaseMs) === 1
    } catch (err) {
      if (this.#redis !== undefined) this.#log.warn({ err: { message: (err as Error).message } }, 'counting WebSockets on this replica only')
      granted = local.size < this.#max
    }
    if (!granted) return undefined
    this.#held.set(userId, local.add(leaseId))
    return leaseId
  }

  release (userId: string, leaseId: string): void {
    const local = this.#held.get(userId)
    local?.delete(leaseId)
    if (local?.size === 0) this.#held.delete(userId)
    this.#redis?.zrem(key(userId), leaseId).catch(() => {}) // otherwise it simply runs out
  }

  /** Stops renewing (shutdown); the leases still held run out by themselves. */
  stop (): void { clearInterval(this.#renewal) }

  async #renew (): Promise<void> {
    if (this.#redis?.status !== 'ready' || this.#held.size === 0) return
    const expiry = Date.now() + this.#leaseMs
    const pipeline = this.#redis.pipeline()
    for (const [userId, leases] of this.#held) {
      for (const leaseId of leases) pipeline.zadd(key(userId), 'XX', expiry, leaseId)
      pipeline.pexpire(key(userId), this.#leaseMs)
    }
    await pipeline.exec().catch(() => {})
  }
}

function key (userId: string): string {
  return `websockets:${userId}`
}
