/**
 * `pnpm chaos [--short]` — runs the whole platform, drives a steady, bounded load of order
 * creations through the gateway, and meanwhile kills and restarts, one after another:
 * an order-service replica, the relay, the processor, RabbitMQ and PostgreSQL (`--short`: the
 * processor and RabbitMQ). Then it lets the system settle and checks that nothing was lost
 * or done twice. It restarts the machine's shared RabbitMQ and PostgreSQL, so it runs on its
 * own, never beside other tests; whatever happens, it restores every service it stopped.
 */
import { randomUUID } from 'node:crypto'
import { Connection } from 'rabbitmq-client'
import { createDatabase } from '@orders/platform'
import { startIsolatedSystem, type IsolatedSystem } from '@orders/system'
import { startOrderLoad, type LoadAnswer } from './chaos/load.ts'
import { killAndRestart, restartPostgres, restartRabbitMq, type Fault } from './chaos/faults.ts'
import { checkInvariants, settle } from './chaos/invariants.ts'

const short = process.argv.includes('--short')
const faults: Fault[] = short
  ? [killAndRestart('order-processor'), restartRabbitMq]
  : [killAndRestart('order-service-1'), killAndRestart('relay'), killAndRestart('order-processor'), restartRabbitMq, restartPostgres]
const CLIENTS = 4
const ORDERS_PER_SECOND = 40
const STEADY_MS = 3_000 // load before the first fault and between faults
const SETTLE_MS = 120_000
const HARD_LIMIT_MS = 8 * 60_000 // the whole run, whatever happens

const hardLimit = setTimeout(() => { console.error(`chaos: gave up after ${HARD_LIMIT_MS / 60_000} minutes`); process.exit(2) }, HARD_LIMIT_MS)
hardLimit.unref()

const logs: string[] = []
let exitCode = 1
let isolated: IsolatedSystem | undefined
try {
  isolated = await startIsolatedSystem({
    onLog: (source, line) => { logs.push(`${source.padEnd(16)} ${line}`); if (logs.length > 5_000) logs.shift() }
  })
  const { system, database, vhost } = isolated
  const tokens = await Promise.all(Array.from({ length: CLIENTS }, async () => await signUp(system.gatewayUrl)))
  const load = startOrderLoad({ gatewayUrl: system.gatewayUrl, tokens, ordersPerSecond: ORDERS_PER_SECOND })
  const windows: Array<{ fault: string, from: number, to: number }> = []
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

  const verdictDb = createDatabase<any>({ connectionString: database.url, poolSize: 2 })
  const observer = new Connection(vhost.url)
  try {
    const accepted = load.answers.filter(a => a.status === 201).map(a => a.orderId!)
    console.log(`chaos: load stopped; waiting for ${accepted.length} accepted orders to settle`)
    await settle(verdictDb, accepted, Date.now() + SETTLE_MS)
    printFaultTable(windows, load.answers)
    const verdicts = await checkInvariants(verdictDb, observer, load.answers)
    console.table(verdicts.map(v => ({ invariant: v.invariant, holds: v.holds ? 'yes' : 'NO', detail: v.detail })))
    exitCode = verdicts.every(v => v.holds) ? 0 : 1
  } finally {
    await observer.close()
    await verdictDb.destroy()
  }
} catch (err) {
  console.error(`chaos: ${(err as Error).stack ?? String(err)}`)
} finally {
  // Whatever failed, the shared services run again, and then nothing of this run is left behind.
  await restartRabbitMq.restore().catch(err => { console.error('chaos: could not start RabbitMQ again', err) })
  await restartPostgres.restore().catch(err => { console.error('chaos: could not start PostgreSQL again', err) })
  await isolated?.stop().catch(err => { console.error('chaos: could not clean up after itself', err) })
}
if (exitCode !== 0) console.error(['chaos: FAILED; last log lines:', ...logs.slice(-200)].join('\n'))
console.log(exitCode === 0 ? 'chaos: every invariant holds' : 'chaos: an invariant does not hold')
process.exit(exitCode)

async function signUp (gatewayUrl: string): Promise<string> {
  const credentials = { email: `chaos-${randomUUID()}@example.com`, password: 'chaos monkey 123' }
  const post = async (path: string) => await fetch(`${gatewayUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(credentials) })
  if ((await post('/users')).status !== 201) throw new Error('could not register a chaos user')
  const login = await post('/login')
  return ((await login.json()) as { access_token: string }).access_token
}

function printFaultTable (windows: Array<{ fault: string, from: number, to: number }>, answers: LoadAnswer[]): void {
  const rows = windows.map(({ fault, from, to }) => {
    const during = answers.filter(a => a.startedAt >= from && a.startedAt <= to)
    return { fault, 'until back (s)': ((to - from) / 1000).toFixed(1), ...countAnswers(during) }
  })
  const steady = answers.filter(a => !windows.some(w => a.startedAt >= w.from && a.startedAt <= w.to))
  rows.push({ fault: '(between faults)', 'until back (s)': '-', ...countAnswers(steady) })
  console.table(rows)
}

function countAnswers (answers: LoadAnswer[]) {
  return {
    requests: answers.length,
    'accepted (201)': answers.filter(a => a.status === 201).length,
    'failed (5xx)': answers.filter(a => a.status >= 500).length,
    'no answer': answers.filter(a => a.status === 0).length,
    other: answers.filter(a => a.status !== 201 && a.status < 500 && a.status !== 0).length
  }
}

async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}
