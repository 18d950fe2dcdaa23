import { createTestDatabase, createTestVhost, type TestDatabase, type TestVhost } from '@orders/test-support'
import { startSystem, type RunningSystem, type SystemOptions } from './start.ts'
import { freeSystemPorts } from './prerequisites.ts'

const ISOLATED_SYSTEM_LIMITS = {
  LOGIN_LIMIT_PER_ACCOUNT: '1000',
  LOGIN_LIMIT_PER_CLIENT: '100000',
  REGISTRATION_LIMIT_PER_CLIENT: '100000',
  TOKEN_LIMIT_PER_CLIENT: '1000',
  // bench registers its accounts all at once; the queue's bound has tests of its own.
  HASHING_MAX_WAITING: '100000'
}

export interface IsolatedSystem {
  system: RunningSystem
  database: TestDatabase
  vhost: TestVhost
  /** Stops every process, then drops the database and the vhost. */
  stop: () => Promise<void>
}

/**
 * The whole platform, as `startSystem` runs it, on free ports with a database and a RabbitMQ
 * vhost of its own, so it never meets `pnpm dev` or another run: what the end-to-end tests,
 * `pnpm chaos` and `pnpm bench` start. Processing has no delay unless the options say so.
 * If the start fails, the database and the vhost are dropped before the error is thrown.
 */
export async function startIsolatedSystem (options: Omit<SystemOptions, 'databaseUrl' | 'amqpUrl' | 'ports'>): Promise<IsolatedSystem> {
  const database = await createTestDatabase({ migrate: false })
  const vhost = await createTestVhost()
  const dropBoth = async () => {
    const results = await Promise.allSettled([vhost.drop(), database.drop()])
    const failures = results.flatMap(r => r.status === 'rejected' ? [r.reason as Error] : [])
    if (failures.length > 0) throw new AggregateError(failures, `could not drop the vhost ${vhost.name} or the database ${database.name}: ${failures.map(f => f.message).join('; ')}`)
  }
  let system: RunningSystem
  try {
    system = await startSystem({
      processingDelayMs: 0,
      ...options,
      // Rate-limit and socket counters of its own in the shared Redis; they expire by themselves.
      // Tests, bench and chaos sign in many people from one address: the per-address limits are
      // raised here (each limit is proven by the user-service's own tests); options.env wins.
      env: { REDIS_KEY_PREFIX: `test:${database.name}:`, ...ISOLATED_SYSTEM_LIMITS, ...options.env },
      databaseUrl: database.url,
      amqpUrl: vhost.url,
      ports: await freeSystemPorts()
    })
  } catch (err) {
    await dropBoth().catch(() => {}) // the start's error is the one worth reporting
    throw err
  }
  return {
    system,
    database,
    vhost,
    async stop () {
      await system.stop()
      await dropBoth()
    }
  }
}
