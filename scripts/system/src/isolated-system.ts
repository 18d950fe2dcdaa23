import { createTestDatabase, createTestRedis, createTestVhost, resolveServiceUrls, startTcpProxy, viaProxy, type TcpProxy, type TestDatabase, type TestVhost } from '@orders/test-support'
import { startSystem, type RunningSystem, type ServiceUrls, type SystemOptions } from './start.ts'
import { freeSystemPorts } from './prerequisites.ts'

const ISOLATED_SYSTEM_LIMITS = {
  LOGIN_LIMIT_PER_ACCOUNT: '1000',
  LOGIN_LIMIT_PER_CLIENT: '100000',
  REGISTRATION_LIMIT_PER_CLIENT: '100000',
  TOKEN_LIMIT_PER_CLIENT: '1000',
  // bench registers its accounts all at once; the queue's bound has tests of its own.
  HASHING_MAX_WAITING: '100000'
}

export interface IsolatedSystemOptions extends Omit<SystemOptions, 'databaseUrl' | 'amqpUrl' | 'ports' | 'serviceUrls' | 'rabbitmqctl'> {
  /**
   * Every connection the platform makes to PostgreSQL and RabbitMQ (the migrations' too) goes
   * through a TCP proxy of this system's own: cutting one (`pnpm chaos`) is an outage for this
   * system alone, while the servers go on serving everyone else.
   */
  behindProxies?: boolean
}

export interface SystemProxies { database: TcpProxy, broker: TcpProxy }

export interface IsolatedSystem {
  system: RunningSystem
  /**
   * Reached directly, never through a proxy: a verdict must see through an outage. The
   * services connect with their own roles and users (`serviceUrls`), made for this system.
   */
  database: TestDatabase
  vhost: TestVhost
  /** The key prefix of its rate-limit and socket counters in the shared Redis. */
  redisKeyPrefix: string
  /** Only with `behindProxies`. */
  proxies?: SystemProxies
  /** Stops every process, closes the proxies, drops the database, the vhost and the Redis keys. */
  stop: () => Promise<void>
}

/**
 * The whole platform, as `startSystem` runs it, on free ports with a database, a RabbitMQ vhost
 * and a Redis key prefix of its own, so it never meets `pnpm dev` or another run: what the
 * end-to-end tests, `pnpm chaos` and `pnpm bench` start. Processing has no delay unless the
 * options say so. If the start fails, all of it is dropped before the error is thrown.
 */
export async function startIsolatedSystem ({ behindProxies = false, ...options }: IsolatedSystemOptions): Promise<IsolatedSystem> {
  const own = await ownResources(behindProxies)
  const { database, vhost, redis, proxies } = own
  let system: RunningSystem
  try {
    system = await startSystem({
      processingDelayMs: 0,
      ...options,
      // Tests, bench and chaos sign in many people from one address: the per-address limits are
      // raised here (each limit is proven by the user-service's own tests); options.env wins.
      env: { REDIS_KEY_PREFIX: redis.keyPrefix, ...ISOLATED_SYSTEM_LIMITS, ...options.env },
      databaseUrl: throughProxy(database.url, proxies?.database),
      amqpUrl: throughProxy(vhost.url, proxies?.broker),
      serviceUrls: ownServiceUrls(database, vhost, proxies),
      // The launcher sets the users up as `pnpm dev` does (the vhost was created with them: this
      // updates them, which proves the launcher's own way).
      rabbitmqctl: (await resolveServiceUrls()).rabbitmqctl,
      ports: await freeSystemPorts()
    })
  } catch (err) {
    await own.release().catch(() => {}) // the start's error is the one worth reporting
    throw err
  }
  return {
    system,
    database,
    vhost,
    redisKeyPrefix: redis.keyPrefix,
    proxies,
    async stop () {
      await system.stop()
      await own.release()
    }
  }
}

function throughProxy (url: string, proxy: TcpProxy | undefined): string {
  return proxy === undefined ? url : viaProxy(url, proxy)
}

/** Each service's own role and broker user on this system's database and vhost. */
function ownServiceUrls (database: TestDatabase, vhost: TestVhost, proxies: SystemProxies | undefined): ServiceUrls {
  if (vhost.serviceUrls === undefined) throw new Error('the vhost was created without service users')
  const through = <T extends object>(urls: T, proxy: TcpProxy | undefined): T =>
    Object.fromEntries(Object.entries(urls).map(([account, url]) => [account, throughProxy(url as string, proxy)])) as T
  return { database: through(database.serviceUrls, proxies?.database), broker: through(vhost.serviceUrls, proxies?.broker) }
}

/** The database, vhost, Redis prefix (and proxies) of one system, and their release. */
async function ownResources (behindProxies: boolean) {
  const database = await createTestDatabase({ migrate: false })
  const vhost = await createTestVhost({ serviceUsers: true })
  const redis = await createTestRedis()
  const proxies: SystemProxies | undefined = behindProxies
    ? { database: await startTcpProxy(hostAndPort(database.url, 5432)), broker: await startTcpProxy(hostAndPort(vhost.url, 5672)) }
    : undefined
  return {
    database,
    vhost,
    redis,
    proxies,
    async release () {
      await Promise.allSettled([proxies?.database.close(), proxies?.broker.close()])
      const results = await Promise.allSettled([vhost.drop(), database.drop(), redis.drop()])
      const failures = results.flatMap(r => r.status === 'rejected' ? [r.reason as Error] : [])
      if (failures.length > 0) throw new AggregateError(failures, `could not drop the vhost ${vhost.name}, the database ${database.name} or the Redis keys ${redis.keyPrefix}*: ${failures.map(f => f.message).join('; ')}`)
    }
  }
}

function hostAndPort (url: string, defaultPort: number): { host: string, port: number } {
  const parsed = new URL(url)
  return { host: parsed.hostname, port: Number(parsed.port || defaultPort) }
}
