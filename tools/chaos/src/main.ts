/**
 * `pnpm chaos [--short]` — runs the whole platform behind TCP proxies to the machine's
 * PostgreSQL and RabbitMQ, drives a steady, bounded load of order creations through the gateway,
 * and meanwhile, one after another: SIGKILLs and restarts an order-service replica, the relay and
 * the processor, and cuts the system off from the broker and from the database for a few seconds
 * (`--short`: the processor and the broker). Then it lets the system settle and checks that
 * nothing was lost or done twice. It acts only on what it started (its processes, its proxies),
 * never on the machine's servers, so it may run beside other work.
 */
import { randomUUID } from 'node:crypto'
import { Connection } from 'rabbitmq-client'
import { registerAndLogin } from '@orders/test-support'
import { startOrderLoad } from './load.ts'
import { killAndRestart, outage, type Fault } from './faults.ts'
import { checkInvariants, settle } from './invariants.ts'
import { faultTable, type FaultWindow } from './answers.ts'
import { startProxiedSystem, type ProxiedSystem } from './proxied-system.ts'

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log('usage: pnpm chaos [--short] [--ha]\n\n  Runs the platform behind TCP proxies under load, kills and restarts its processes and cuts\n  the broker and the database off for a few seconds, then checks that nothing was lost or done\n  twice. --short: the processor and the broker only. --ha: on a RabbitMQ cluster and Patroni of\n  its own (doc/ha.md). Exit status: 0 every invariant holds, 1 otherwise.')
  process.exit(0)
}

// --ha: on a RabbitMQ cluster and Patroni of its own instead (ha-main.ts, which exits when done).
if (process.argv.includes('--ha')) await import('./ha-main.ts')

const short = process.argv.includes('--short')
const CLIENTS = 4
const ORDERS_PER_SECOND = 40
const STEADY_MS = 3_000 // load before the first fault and between faults
const SETTLE_MS = 120_000
const HARD_LIMIT_MS = 8 * 60_000 // the whole run, whatever happens

const hardLimit = setTimeout(() => { console.error(`chaos: gave up after ${HARD_LIMIT_MS / 60_000} minutes`); process.exit(2) }, HARD_LIMIT_MS)
hardLimit.unref()

const logs: string[] = []
let exitCode = 1
let proxied: ProxiedSystem | undefined
try {
  proxied = await startProxiedSystem({
    onLog: (source, line) => { logs.push(`${source.padEnd(16)} ${line}`); if (logs.length > 5_000) logs.shift() }
  })
  const { system, database, vhost, databaseProxy, brokerProxy } = proxied
  const faults: Fault[] = short
    ? [killAndRestart('order-processor'), outage('RabbitMQ', brokerProxy)]
    : [killAndRestart('order-service-1'), killAndRestart('relay'), killAndRestart('order-processor'), outage('RabbitMQ', brokerProxy), outage('PostgreSQL', databaseProxy)]
  const tokens = await Promise.all(Array.from({ length: CLIENTS }, async () =>
    (await registerAndLogin(system.gatewayUrl, `chaos-${randomUUID()}@example.com`, 'chaos monkey 123')).token))
  const load = startOrderLoad({ gatewayUrl: system.gatewayUrl, tokens, ordersPerSecond: ORDERS_PER_SECOND })
  const windows: FaultWindow[] = []
  try {
    for (const fault of faults) {
      await sleep(STEADY_MS)
      const from = Date.now()
      console.log(`chaos: ${fault.name}`)
      try {
        await fault.inject(system)
      } finally {
        await fault.restore()
      }
      windows.push({ fault: fault.name, from, to: Date.now() })
      console.log(`chaos: ${fault.name}: back after ${((Date.now() - from) / 1000).toFixed(1)} s`)
    }
    await sleep(STEADY_MS)
  } finally {
    await load.stop()
  }

  // Both observers reach the servers directly, not through the proxies.
  const observer = new Connection(vhost.url)
  try {
    const accepted = load.answers.filter(a => a.status === 201).map(a => a.orderId!)
    console.log(`chaos: load stopped; waiting for ${accepted.length} accepted orders to settle`)
    await settle(database.db, accepted, Date.now() + SETTLE_MS)
    console.table(faultTable(windows, load.answers))
    const verdicts = await checkInvariants(database.db, observer, load.answers)
    console.table(verdicts.map(v => ({ invariant: v.invariant, holds: v.holds ? 'yes' : 'NO', detail: v.detail })))
    exitCode = verdicts.every(v => v.holds) ? 0 : 1
  } finally {
    await observer.close()
  }
} catch (err) {
  console.error(`chaos: ${(err as Error).stack ?? String(err)}`)
} finally {
  // Whatever failed, nothing of this run is left behind: processes, proxies, database, vhost.
  await proxied?.stop().catch(err => { console.error('chaos: could not clean up after itself', err) })
}
if (exitCode !== 0) console.error(['chaos: FAILED; last log lines:', ...logs.slice(-200)].join('\n'))
console.log(exitCode === 0 ? 'chaos: every invariant holds' : 'chaos: an invariant does not hold')
process.exit(exitCode)

async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}
