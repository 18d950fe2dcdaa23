import { Redis } from 'ioredis'
import { Type, type TProperties } from '@sinclair/typebox'
import type { Logger } from './logging.ts'

/** The variables of a process that keeps shared counters (rate limits, socket counts) in Redis. */
export const redisConfigProperties = {
  /** Shared by every replica. This machine's Redis by default. */
  REDIS_URL: Type.String({ default: 'redis://127.0.0.1:6379' }),
  /** Prefixed to every key, so that several systems (tests, dev) can share one Redis. */
  REDIS_KEY_PREFIX: Type.String({ default: 'orders:' })
} satisfies TProperties

/**
 * An ioredis client that fails fast instead of queueing: while Redis is unreachable a command
 * is rejected at once (no offline queue) or after commandTimeout, so a request that needs a
 * counter is never held up by an outage; callers fall back to a local count (rate-limit.ts).
 * It reconnects by itself, every 2 s at most.
 */
export function createRedisClient (options: { url: string, keyPrefix: string, log: Logger }): Redis {
  const client = new Redis(options.url, {
    keyPrefix: options.keyPrefix,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 1_000,
    commandTimeout: 500,
    retryStrategy: attempt => Math.min(attempt * 200, 2_000)
  })
  // ioredis emits an error for every failed reconnect; log the changes of state only.
  let reachable = true
  client.on('ready', () => {
    if (!reachable) options.log.info('Redis is reachable again; limits are shared across replicas again')
    reachable = true
  })
  client.on('error', (err: Error) => {
    if (reachable) options.log.warn({ err: { message: err.message } }, 'Redis is unreachable; limits fall back to this process alone')
    reachable = false
  })
  return client
}

export type { Redis }
