import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { Kysely } from 'kysely'
import { Connection } from 'rabbitmq-client'
import { brokerAddresses, createDatabase } from '@orders/platform'
import { findFreePorts, freeSystemPorts, startHaEngines, startSystem, type HaEngines, type RunningSystem, type SystemOptions } from '@orders/system'
import { createTestRedis } from '@orders/test-support'

export interface HaSystem {
  system: RunningSystem
  engines: HaEngines
  /** Through HAProxy, like the services: for the verdict, after the failovers. */
  db: Kysely<any>
  /** Every node of the cluster, like the services. */
  observer: Connection
  stop: () => Promise<void>
}

/**
 * The whole platform on HA engines of this run's own: a 3-node RabbitMQ cluster and Patroni
 * with etcd behind HAProxy, on ports found free and in a temporary directory, so it never
 * meets `pnpm dev --ha` (or the machine's own servers), and a key prefix of its own in the
 * machine's Redis (its rate-limit counters). Quorum queues on all three nodes.
 */
export async function startHaSystem (options: Omit<SystemOptions, 'databaseUrl' | 'amqpUrl' | 'ports' | 'rabbitmqctl'>): Promise<HaSystem> {
  // Under /var/tmp when root: the postgres user must reach its directories (a private /tmp may hide them).
  const baseDir = await mkdtemp(path.join(process.getuid?.() === 0 ? '/var/tmp' : tmpdir(), 'chaos-ha-'))
  await chmod(baseDir, 0o755)
  const [amqp1, amqp2, amqp3, dist1, dist2, dist3, pg1, pg2, rest1, rest2, etcdClient, etcdPeer, haproxy] = await findFreePorts(13) as [number, ...number[]]
  const redis = await createTestRedis()
  let engines: HaEngines | undefined
  let system: RunningSystem | undefined
  let db: Kysely<any> | undefined
  let observer: Connection | undefined
  const stop = async (): Promise<void> => {
    await observer?.close().catch(() => {})
    await db?.destroy().catch(() => {})
    await system?.stop()
    await engines?.stop()
    await rm(baseDir, { recursive: true, force: true })
    await redis.drop()
  }
  try {
    engines = await startHaEngines({
      baseDir,
      database: 'orders_chaos',
      onLog: options.onLog,
      rabbitmq: { ports: [amqp1, amqp2!, amqp3!], distPorts: [dist1!, dist2!, dist3!], nodeNamePrefix: `chaos${process.pid}-r` },
      postgres: { pgPorts: [pg1!, pg2!], restPorts: [rest1!, rest2!], etcdPorts: { client: etcdClient!, peer: etcdPeer! }, port: haproxy! }
    })
    system = await startSystem({
      processingDelayMs: 0,
      ...options,
      env: { REDIS_KEY_PREFIX: redis.keyPrefix, ...options.env, QUORUM_INITIAL_GROUP_SIZE: '3' },
      databaseUrl: engines.databaseUrl,
      amqpUrl: engines.amqpUrl,
      // The services' own users, set up on the cluster as `pnpm dev --ha` does.
      rabbitmqctl: engines.broker.rabbitmqctl,
      ports: await freeSystemPorts()
    })
    db = createDatabase({ connectionString: engines.databaseUrl, poolSize: 2, applicationName: 'chaos-verdict' })
    observer = new Connection({ ...brokerAddresses(engines.amqpUrl), retryLow: 100, retryHigh: 1_000 })
    observer.on('error', () => {}) // it reconnects to another node when its own dies
  } catch (err) {
    await stop().catch(() => {}) // the start's error is the one worth reporting
    throw err
  }
  return { system, engines, db, observer, stop }
}
