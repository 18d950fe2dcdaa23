/**
 * The faults of `pnpm chaos --ha`: a RabbitMQ node or the PostgreSQL primary dies (SIGKILL),
 * with the failover timed the way a client sees it. Each acts only on engines this run started.
 */
import { sql } from 'kysely'
import { createDatabase } from '@orders/platform'
import { Connection, type Publisher } from 'rabbitmq-client'
import type { RabbitMqNode, HaEngines } from '@orders/system'
import type { Fault } from './faults.ts'

const BACK_TIMEOUT_MS = 120_000
const PROBE_EVERY_MS = 100

export interface FailoverTime { fault: string, measure: string, seconds: number }

/**
 * SIGKILL to the node that `pick` chooses, sent from outside like a machine's death, so the
 * launcher's restart policy brings it back. Timed: from the kill to the first publish confirmed
 * on a quorum queue that the dead node led (a probe queue declared on it just before).
 */
export function killBrokerNode (name: string, engines: HaEngines, pick: () => Promise<RabbitMqNode>, times: FailoverTime[]): Fault {
  return {
    name: `SIGKILL the RabbitMQ node that leads ${name}`,
    async inject () {
      const victim = await pick()
      const probe = await startConfirmProbe(engines, victim)
      try {
        console.log(`chaos: killing ${victim.name} (leads ${name} and the probe queue)`)
        const killedAt = Date.now()
        process.kill(-victim.pid!, 'SIGKILL')
        const confirmedAt = await probe.firstConfirmAfter(killedAt, BACK_TIMEOUT_MS)
        times.push({ fault: `RabbitMQ node leading ${name}`, measure: 'kill → first confirm', seconds: (confirmedAt - killedAt) / 1000 })
      } finally {
        await probe.stop()
      }
      await waitFor(`${victim.name} restarted and in the cluster`, async () => victim.running && (await engines.broker.runningNodes()).length === engines.broker.nodes.length)
      await engines.restarts()
    },
    async restore () {}
  }
}

/** SIGKILL to the primary's Patroni and postmaster; timed from the kill to the first write through HAProxy. */
export function killDatabasePrimary (engines: HaEngines, times: FailoverTime[]): Fault {
  return {
    name: 'SIGKILL the PostgreSQL primary (Patroni and postmaster)',
    async inject () {
      await write(engines.databaseUrl, 'create table if not exists chaos_probe (at timestamptz not null default now())')
      const killedAt = Date.now()
      const victim = await engines.database.killPrimaryHard()
      await waitFor('a write through HAProxy', async () => { await write(engines.databaseUrl, 'insert into chaos_probe default values'); return true })
      times.push({ fault: 'PostgreSQL primary', measure: 'kill → first write', seconds: (Date.now() - killedAt) / 1000 })
      await victim.restart()
      await engines.database.waitUntilHealthy(BACK_TIMEOUT_MS)
    },
    async restore () {}
  }
}

async function write (url: string, statement: string): Promise<void> {
  // A pool of its own each time: a write "after the failover" must come over a new connection.
  const db = createDatabase({ connectionString: url, poolSize: 1, applicationName: 'chaos-probe' })
  try {
    await sql.raw(statement).execute(db)
  } finally {
    await db.destroy().catch(() => {})
  }
}

/**
 * Publishes with confirms, one message at a time, to a quorum queue led by `leader` (a queue
 * is led by the node of the connection that declares it), over a connection that knows every
 * node, as the services do. Like the relay, it replaces its publisher after a NACK or a
 * confirm that does not come.
 */
async function startConfirmProbe (engines: HaEngines, leader: RabbitMqNode) {
  const others = engines.broker.nodes.filter(node => node !== leader)
  const connection = new Connection({
    url: leader.amqpUrl,
    hosts: [leader, ...others].map(node => `127.0.0.1:${node.amqpPort}`),
    retryLow: 50,
    retryHigh: 500
  })
  connection.on('error', () => {}) // it reconnects; the probe times what the loss costs
  const queue = `chaos.failover-probe.${leader.name}`
  await connection.queueDelete({ queue }).catch(() => {})
  await connection.queueDeclare({ queue, durable: true, arguments: { 'x-queue-type': 'quorum', 'x-quorum-initial-group-size': 3 } })
  const status = await engines.broker.quorumQueueStatus(queue)
  if (status.leader !== leader.name) throw new Error(`the probe queue is led by ${status.leader}, not ${leader.name}`)
  let publisher: Publisher = connection.createPublisher({ confirm: true })
  // Confirm times of messages sent at or after a moment: the first confirm "after the kill" is
  // of a message sent after it, not one in flight before.
  const confirms: Array<{ sentAt: number, confirmedAt: number }> = []
  let running = true
  const loop = (async () => {
    while (running) {
      const sentAt = Date.now()
      try {
        await Promise.race([
          publisher.send({ routingKey: queue, durable: true }, { sentAt }),
          new Promise((_resolve, reject) => setTimeout(() => { reject(new Error('no confirm in 2 s')) }, 2_000))
        ])
        confirms.push({ sentAt, confirmedAt: Date.now() })
      } catch {
        const failed = publisher
        publisher = connection.createPublisher({ confirm: true })
        failed.close().catch(() => {})
      }
      await new Promise(resolve => setTimeout(resolve, PROBE_EVERY_MS))
    }
  })()
  return {
    async firstConfirmAfter (since: number, timeoutMs: number): Promise<number> {
      const first = async () => confirms.find(confirm => confirm.sentAt >= since)
      await waitFor('a confirmed publish after the kill', async () => await first() !== undefined, timeoutMs)
      return (await first())!.confirmedAt
    },
    async stop () {
      running = false
      await loop
      await connection.queueDelete({ queue }).catch(() => {})
      await publisher.close().catch(() => {})
      await connection.close()
    }
  }
}

async function waitFor (what: string, check: () => Promise<boolean>, timeoutMs = BACK_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check().catch(() => false)) return
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`)
    await new Promise(resolve => setTimeout(resolve, PROBE_EVERY_MS))
  }
}
