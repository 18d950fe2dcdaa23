/**
 * `pnpm chaos --ha [--short]` — the platform on HA engines of its own (a 3-node RabbitMQ
 * cluster, Patroni with a synchronous standby behind HAProxy), under a steady load of order
 * creations, while one after another: the RabbitMQ node leading the work queue dies (SIGKILL),
 * then the one holding a replica's status-event queue, then the PostgreSQL primary (Patroni
 * and postmaster). The launcher restarts the broker nodes; the old primary is restarted and
 * rejoins as a standby. Then it checks that nothing was lost or done twice, and prints the
 * failover times. `--short` (the suite's form): the work queue's leader and the primary.
 */
import { randomUUID } from 'node:crypto'
import { QUEUES } from '@orders/contracts'
import { registerAndLogin } from '@orders/test-support'
import { faultTable, type FaultWindow } from './answers.ts'
import type { Fault } from './faults.ts'
import { killBrokerNode, killDatabasePrimary, type FailoverTime } from './ha-faults.ts'
import { startHaSystem, type HaSystem } from './ha-system.ts'
import { checkInvariants, settle } from './invariants.ts'
import { startOrderLoad } from './load.ts'

const short = process.argv.includes('--short')
const CLIENTS = 4
const ORDERS_PER_SECOND = 20
const STEADY_MS = short ? 3_000 : 5_000
const SETTLE_MS = 120_000
const HARD_LIMIT_MS = (short ? 6 : 12) * 60_000

const hardLimit = setTimeout(() => { console.error(`chaos --ha: gave up after ${HARD_LIMIT_MS / 60_000} minutes`); process.exit(2) }, HARD_LIMIT_MS)
hardLimit.unref()

const logs: string[] = []
let exitCode = 1
let ha: HaSystem | undefined
const started = Date.now()
try {
  ha = await startHaSystem({
    onLog: (source, line) => {
      logs.push(`${source.padEnd(16)} ${line}`)
      if (logs.length > 5_000) logs.shift()
      if (source === 'ha' && /died|back after|could not be restarted|replaced/.test(line)) console.log(`chaos: [${source}] ${line}`)
    }
  })
  console.log(`chaos: HA engines and platform up in ${((Date.now() - started) / 1000).toFixed(0)} s`)
  const { system, engines, db, observer } = ha
  const times: FailoverTime[] = []
  const workQueueLeader = async () => await engines.broker.leaderOf(QUEUES.orderProcessing)
  const statusQueueNode = async () => await engines.broker.nodeOfClassicQueue('order-service.notifications.')
  const faults: Fault[] = [
    killBrokerNode('the work queue', engines, workQueueLeader, times),
    ...(short ? [] : [killBrokerNode('a status-event queue', engines, statusQueueNode, times)]),
    killDatabasePrimary(engines, times)
  ]
  const tokens = await Promise.all(Array.from({ length: CLIENTS }, async () =>
    (await registerAndLogin(system.gatewayUrl, `chaos-${randomUUID()}@example.com`, 'chaos monkey 123')).token))
  const load = startOrderLoad({ gatewayUrl: system.gatewayUrl, tokens, ordersPerSecond: ORDERS_PER_SECOND })
  const windows: FaultWindow[] = []
  try {
    for (const fault of faults) {
      await sleep(STEADY_MS)
      const from = Date.now()
      console.log(`chaos: ${fault.name}`)
      await fault.inject(system)
      windows.push({ fault: fault.name, from, to: Date.now() })
      console.log(`chaos: ${fault.name}: everything back after ${((Date.now() - from) / 1000).toFixed(1)} s`)
    }
    await sleep(STEADY_MS)
  } finally {
    await load.stop()
  }

  const accepted = load.answers.filter(a => a.status === 201).map(a => a.orderId!)
  console.log(`chaos: load stopped; waiting for ${accepted.length} accepted orders to settle`)
  await settle(db, accepted, Date.now() + SETTLE_MS)
  console.table(faultTable(windows, load.answers))
  console.table(times.map(t => ({ failover: t.fault, measured: t.measure, seconds: t.seconds.toFixed(1) })))
  const internalErrors = load.answers.filter(a => a.status === 500)
  const verdicts = [
    ...await checkInvariants(db, observer, load.answers),
    { invariant: 'no 500 (an unavailable database is a 503)', holds: internalErrors.length === 0, detail: `${internalErrors.length} answers 500${internalErrors[0]?.message ? `: ${internalErrors[0].message}` : ''}` }
  ]
  console.table(verdicts.map(v => ({ invariant: v.invariant, holds: v.holds ? 'yes' : 'NO', detail: v.detail })))
  exitCode = verdicts.every(v => v.holds) ? 0 : 1
} catch (err) {
  console.error(`chaos: ${(err as Error).stack ?? String(err)}`)
} finally {
  // Whatever failed, nothing of this run is left behind: processes, engines, their data.
  await ha?.stop().catch(err => { console.error('chaos: could not clean up after itself', err) })
}
if (exitCode !== 0) console.error(['chaos: FAILED; last log lines:', ...logs.slice(-200)].join('\n'))
console.log(`${exitCode === 0 ? 'chaos --ha: every invariant holds' : 'chaos --ha: an invariant does not hold'} (${((Date.now() - started) / 1000).toFixed(0)} s)`)
process.exit(exitCode)

async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}
