import { createTestDatabase, createTestVhost, startTcpProxy, viaProxy, type TcpProxy, type TestDatabase, type TestVhost } from '@orders/test-support'
import { freeSystemPorts, startSystem, type RunningSystem, type SystemOptions } from '@orders/system'

export interface ProxiedSystem {
  system: RunningSystem
  /** Reached directly, not through the proxy: for the verdict, which must see through an outage. */
  database: TestDatabase
  vhost: TestVhost
  /** Every connection the platform makes to PostgreSQL / RabbitMQ goes through these. */
  databaseProxy: TcpProxy
  brokerProxy: TcpProxy
  /** Stops every process, closes the proxies, drops the database and the vhost. */
  stop: () => Promise<void>
}

/**
 * The whole platform as startIsolatedSystem runs it (free ports, a database and a vhost of its
 * own), but with its DATABASE_URL and AMQP_URL pointing at TCP proxies in front of the machine's
 * servers. Cutting a proxy is an outage for this system alone: the servers themselves, which
 * other work on the machine uses, are never stopped. The migrations run through the proxy too.
 */
export async function startProxiedSystem (options: Omit<SystemOptions, 'databaseUrl' | 'amqpUrl' | 'ports'>): Promise<ProxiedSystem> {
  const database = await createTestDatabase({ migrate: false })
  const vhost = await createTestVhost()
  const databaseProxy = await startTcpProxy(hostAndPort(database.url, 5432))
  const brokerProxy = await startTcpProxy(hostAndPort(vhost.url, 5672))
  const release = async () => {
    await Promise.allSettled([databaseProxy.close(), brokerProxy.close()])
    const results = await Promise.allSettled([vhost.drop(), database.drop()])
    const failures = results.flatMap(r => r.status === 'rejected' ? [r.reason as Error] : [])
    if (failures.length > 0) throw new AggregateError(failures, `could not drop the vhost ${vhost.name} or the database ${database.name}: ${failures.map(f => f.message).join('; ')}`)
  }
  let system: RunningSystem
  try {
    system = await startSystem({
      processingDelayMs: 0,
      ...options,
      databaseUrl: viaProxy(database.url, databaseProxy),
      amqpUrl: viaProxy(vhost.url, brokerProxy),
      ports: await freeSystemPorts()
    })
  } catch (err) {
    await release().catch(() => {}) // the start's error is the one worth reporting
    throw err
  }
  return {
    system,
    database,
    vhost,
    databaseProxy,
    brokerProxy,
    async stop () {
      await system.stop()
      await release()
    }
  }
}

function hostAndPort (url: string, defaultPort: number): { host: string, port: number } {
  const parsed = new URL(url)
  return { host: parsed.hostname, port: Number(parsed.port || defaultPort) }
}
