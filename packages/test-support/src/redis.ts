import { randomUUID } from 'node:crypto'
import { createRedisClient, type Logger, type Redis } from '@orders/platform'
import pino from 'pino'

/** The machine's Redis, or TEST_REDIS_URL. It is shared: tests only ever touch their own prefix. */
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

/**
 * A key prefix of its own on the shared Redis (like a database per test file), a client that
 * uses it, and cleanup: drop() deletes every key under the prefix and disconnects.
 */
export async function createTestRedis (options: { url?: string, log?: Logger } = {}) {
  const keyPrefix = `test:${randomUUID()}:`
  const url = options.url ?? TEST_REDIS_URL
  const client: Redis = createRedisClient({ url, keyPrefix, log: options.log ?? pino({ level: 'silent' }) })
  return {
    url,
    keyPrefix,
    client,
    /** Keys under the prefix, without it. */
    async keys (): Promise<string[]> {
      const admin = createRedisClient({ url: TEST_REDIS_URL, keyPrefix: '', log: pino({ level: 'silent' }) })
      try {
        await waitReady(admin)
        const found: string[] = []
        let cursor = '0'
        do {
          const [next, batch] = await admin.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 500)
          cursor = next
          found.push(...batch)
        } while (cursor !== '0')
        return found.map(key => key.slice(keyPrefix.length))
      } finally {
        admin.disconnect()
      }
    },
    async drop (): Promise<void> {
      const keys = await this.keys()
      client.disconnect()
      if (keys.length === 0) return
      const admin = createRedisClient({ url: TEST_REDIS_URL, keyPrefix, log: pino({ level: 'silent' }) })
      try {
        await waitReady(admin)
        await admin.del(...keys)
      } finally {
        admin.disconnect()
      }
    }
  }
}
export type TestRedis = Awaited<ReturnType<typeof createTestRedis>>

async function waitReady (client: Redis): Promise<void> {
  if (client.status === 'ready') return
  await new Promise<void>((resolve, reject) => {
    client.once('ready', resolve)
    setTimeout(() => { reject(new Error('Redis did not answer within 5 s')) }, 5_000).unref()
  })
}
