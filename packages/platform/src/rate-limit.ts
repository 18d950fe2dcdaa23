import { createRequire } from 'node:module'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import rateLimit from '@fastify/rate-limit'
import type { Redis } from 'ioredis'

type Callback = (err: Error | null, result?: { current: number, ttl: number }) => void
interface CounterStore {
  incr: (key: string, callback: Callback, timeWindow: number, max: number) => void
  child: (params: { exponentialBackoff?: boolean }) => CounterStore
}
// @fastify/rate-limit's own stores (CommonJS modules its types do not declare).
const require = createRequire(import.meta.url)
const LocalStore = require('@fastify/rate-limit/store/LocalStore.js') as new (continueExceeding: boolean, exponentialBackoff: boolean, cache?: number) => CounterStore
const RedisStore = require('@fastify/rate-limit/store/RedisStore.js') as new (continueExceeding: boolean, exponentialBackoff: boolean, redis: Redis, key?: string) => CounterStore

/**
 * Counts in Redis, shared by every replica; while Redis is unreachable, in this process's
 * memory. Why not fail open (no limit) or closed (refuse everyone): an attacker who can make
 * Redis unreachable would otherwise switch the limits off, or lock every user out; a local
 * count keeps each replica as strict as the shared one (at most replicas × max in total).
 */
function fallbackStore (redis: Redis) {
  return class RedisWithLocalFallback implements CounterStore {
    readonly #shared: CounterStore
    readonly #local: CounterStore
    readonly #exponentialBackoff: boolean
    constructor (params: { exponentialBackoff?: boolean }) {
      this.#exponentialBackoff = params.exponentialBackoff === true
      this.#shared = new RedisStore(false, this.#exponentialBackoff, redis, 'rate-limit:')
      this.#local = new LocalStore(false, this.#exponentialBackoff, 10_000)
    }

    incr (key: string, callback: Callback, timeWindow: number, max: number): void {
      if (redis.status !== 'ready') { this.#local.incr(key, callback, timeWindow, max); return }
      this.#shared.incr(key, (err, result) => {
        if (err) this.#local.incr(key, callback, timeWindow, max)
        else callback(null, result)
      }, timeWindow, max)
    }

    child (params: { exponentialBackoff?: boolean }): CounterStore {
      return new RedisWithLocalFallback({ exponentialBackoff: params.exponentialBackoff ?? this.#exponentialBackoff })
    }
  }
}

export interface LimitRule {
  /** Names the counter; part of its key. */
  name: string
  /** Requests per minute. */
  perMinute: number
  /** What is counted: the client's address, an account, a client id... */
  key: (request: FastifyRequest) => string
  /** Each request over the limit doubles the wait (1, 2, 4... minutes), rather than a lockout. */
  growingBackoff?: boolean
}

export type RequestLimiter = (request: FastifyRequest, reply: FastifyReply) => Promise<void>

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * A preHandler that counts the request against every rule and answers 429, with
     * Retry-After and a message, once one of them is exceeded. preHandler, so a rule may count
     * by a body field (the email of a login).
     */
    limitRequests: (...rules: LimitRule[]) => RequestLimiter
  }
}

/** Registers @fastify/rate-limit (no global limit: each route names its rules). */
export async function registerRateLimits (app: FastifyInstance, redis: Redis): Promise<void> {
  await app.register(rateLimit, { global: false, store: fallbackStore(redis) as never })
  app.decorate('limitRequests', (...rules: LimitRule[]): RequestLimiter => {
    const limiters = rules.map(rule => ({
      rule,
      // exponentialBackoff reaches the store (child()) although the types leave it out here.
      check: app.createRateLimit({
        max: rule.perMinute,
        timeWindow: 60_000,
        exponentialBackoff: rule.growingBackoff === true,
        keyGenerator: (request: FastifyRequest) => `${rule.name}:${rule.key(request)}`
      } as Parameters<typeof app.createRateLimit>[0])
    }))
    return async function limitRequest (request, reply) {
      for (const { rule, check } of limiters) {
        const result = await check(request)
        if (!result.isAllowed && result.isExceeded) {
          request.log.info({ limit: rule.name }, 'rate limit exceeded')
          void reply.header('retry-after', String(result.ttlInSeconds))
          throw app.httpErrors.tooManyRequests(`Too many requests; try again in ${result.ttlInSeconds} seconds`)
        }
      }
    }
  })
}
