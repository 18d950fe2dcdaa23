/**
 * `pnpm chaos --ha [--short]` — the platform on HA engines of its own (a 3-node RabbitMQ
 * cluster, Patroni with a synchronous standby behind HAProxy), under a steady load of order
 * creations, while one after another: the RabbitMQ node leading the work queue dies (SIGKILL),
 * then the one holding a replica's status-event queue, then the PostgreSQL primary (Patroni
 * and postmaster). The launcher restarts the broker nodes; the old primary is restarted and
 * rejoins as a standby. Then it checks that nothing was lost or done twice, and prints the
 * failover times. `--short` (the suite's form): the work queue's leader and the primary.
 */
import { QUEUES } from '@orders/contracts'
import { killBrokerNode, killDatabasePrimary, type FailoverTime } from './ha-faults.ts'
import { startHaSystem } from './ha-system.ts'
import { runChaos } from './run-chaos.ts'

const short = process.argv.includes('--short')
const times: FailoverTime[] = []

process.exit(await runChaos({
  name: 'chaos --ha',
  clients: 4,
  ordersPerSecond: 20,
  steadyMs: short ? 3_000 : 5_000,
  hardLimitMs: (short ? 6 : 12) * 60_000,
  echo: (source, line) => source === 'ha' && /died|back after|could not be restarted|replaced/.test(line),
  async start (onLog) {
    const ha = await startHaSystem({ onLog })
    const { engines } = ha
    const workQueueLeader = async () => await engines.broker.leaderOf(QUEUES.orderProcessing)
    const statusQueueNode = async () => await engines.broker.nodeOfClassicQueue('order-service.notifications.')
    const faults = [
      killBrokerNode('the work queue', engines, workQueueLeader, times),
      ...(short ? [] : [killBrokerNode('a status-event queue', engines, statusQueueNode, times)]),
      killDatabasePrimary(engines, times)
    ]
    return { ...ha, faults }
  },
  report: () => { console.table(times.map(t => ({ failover: t.fault, measured: t.measure, seconds: t.seconds.toFixed(1) }))) },
  extraVerdicts: answers => {
    const internalErrors = answers.filter(a => a.status === 500)
    return [{ invariant: 'no 500 (an unavailable database is a 503)', holds: internalErrors.length === 0, detail: `${internalErrors.length} answers 500${internalErrors[0]?.message ? `: ${internalErrors[0].message}` : ''}` }]
  }
}))
