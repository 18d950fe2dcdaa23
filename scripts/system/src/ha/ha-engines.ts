/**
 * The HA engines `pnpm dev --ha` and `pnpm chaos --ha` run the platform on: the RabbitMQ
 * cluster and PostgreSQL under Patroni behind HAProxy, started together, with an engine that
 * dies restarted as an orchestrator would (and said so in the log). Services reach them
 * through `amqpUrl` (every node, comma-separated) and `databaseUrl` (HAProxy).
 */
import path from 'node:path'
import type { LogLine } from '../supervised-process.ts'
import { startPostgresHa, type PostgresHa, type PostgresHaOptions } from './postgres-ha.ts'
import { startRabbitMqCluster, type RabbitMqCluster, type RabbitMqClusterOptions } from './rabbitmq-cluster.ts'

export interface HaEnginesOptions {
  /** RabbitMQ under `<baseDir>/rabbitmq`, PostgreSQL under `<baseDir>/postgres`; reused by the next start. */
  baseDir: string
  /** The database the platform uses (created by the migrations if missing). */
  database: string
  onLog?: LogLine
  /** Ports and node names other than `pnpm dev --ha`'s (tests and chaos runs beside it). */
  rabbitmq?: Partial<Omit<RabbitMqClusterOptions, 'baseDir' | 'onLog' | 'onUnexpectedExit'>>
  postgres?: Partial<Omit<PostgresHaOptions, 'baseDir' | 'onLog' | 'onUnexpectedExit' | 'database'>>
  /** Restart an engine that dies without being asked to (default true). */
  restartOnExit?: boolean
}

export interface HaEngines {
  broker: RabbitMqCluster
  database: PostgresHa
  /** AMQP_URL for the services: every node of the cluster, comma-separated. */
  amqpUrl: string
  /** DATABASE_URL for the services: through HAProxy to the current primary. */
  databaseUrl: string
  /** Restarts of engines that died, in progress; awaited by stop(). */
  restarts: () => Promise<void>
  stop: () => Promise<void>
}

export async function startHaEngines (options: HaEnginesOptions): Promise<HaEngines> {
  const log = options.onLog ?? (() => {})
  const restarting = new Set<Promise<void>>()
  let stopping = false
  // Engines that die during the start fail it (the start's error says why); afterwards the
  // restart policy holds, as an orchestrator's would.
  let enginesUp = false
  const recentRestarts: number[] = []
  const restart = (what: string, start: () => Promise<void>): void => {
    if (stopping || !enginesUp || options.restartOnExit === false) return
    // Back off like a crash loop: a fourth death within a minute is left for a person to look at.
    const now = Date.now()
    while (recentRestarts.length > 0 && recentRestarts[0]! < now - 60_000) recentRestarts.shift()
    if (recentRestarts.length >= 3) {
      log('ha', `${what} died again: the fourth time within a minute; not restarting it (see its log)`)
      return
    }
    recentRestarts.push(now)
    log('ha', `${what} died; restarting it`)
    const started = Date.now()
    const done = start().then(
      () => { log('ha', `${what} is back after ${((Date.now() - started) / 1000).toFixed(1)} s`) },
      err => { log('ha', `${what} could not be restarted: ${(err as Error).message}`) }
    ).finally(() => { restarting.delete(done) })
    restarting.add(done)
  }

  const broker = await startRabbitMqCluster({
    ...options.rabbitmq,
    baseDir: path.join(options.baseDir, 'rabbitmq'),
    onLog: log,
    onUnexpectedExit: node => { restart(`RabbitMQ node ${node.name}`, node.restart) }
  })
  let database: PostgresHa
  try {
    database = await startPostgresHa({
      ...options.postgres,
      baseDir: path.join(options.baseDir, 'postgres'),
      database: options.database,
      onLog: log,
      onUnexpectedExit: member => { restart(`Patroni member ${member.name}`, member.restart) }
    })
  } catch (err) {
    stopping = true
    await broker.stop()
    throw err
  }
  enginesUp = true
  const restarts = async (): Promise<void> => { while (restarting.size > 0) await Promise.allSettled([...restarting]) }
  return {
    broker,
    database,
    amqpUrl: broker.amqpUrls.join(','),
    databaseUrl: database.databaseUrl,
    restarts,
    stop: async () => {
      stopping = true
      await restarts()
      await Promise.all([database.stop(), broker.stop()])
    }
  }
}
