import { randomUUID } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { Kysely } from 'kysely'
import type { Connection } from 'rabbitmq-client'
import { REPO_ROOT, type RunningSystem } from '@orders/system'
import { registerAndLogin } from '@orders/test-support'
import { faultTable, type FaultWindow } from './answers.ts'
import type { Fault } from './faults.ts'
import { checkInvariants, settle, type Verdict } from './invariants.ts'
import { startOrderLoad, type LoadAnswer } from './load.ts'

/** A started system to inflict faults on, and what the verdict reads. */
export interface ChaosTarget {
  system: RunningSystem
  /** Reaches the data whatever the faults did (directly, or through HAProxy after a failover). */
  db: Kysely<any>
  observer: Connection
  faults: Fault[]
  /** Everything it started is stopped and dropped; called whatever happened. */
  stop: () => Promise<void>
}

export interface ChaosRun {
  /** How the run names itself in its output: `chaos`, `chaos --ha`. */
  name: string
  start: (onLog: (source: string, line: string) => void) => Promise<ChaosTarget>
  clients: number
  ordersPerSecond: number
  /** Load before the first fault and between faults. */
  steadyMs: number
  /** The whole run, whatever happens: past it the process exits with status 2. */
  hardLimitMs: number
  /** Log lines worth printing as they come (the rest is printed only on failure). */
  echo?: (source: string, line: string) => boolean
  /** Verdicts beyond the shared invariants, from the load's answers. */
  extraVerdicts?: (answers: LoadAnswer[]) => Verdict[]
  /** Printed after the fault table (e.g. the failover times). */
  report?: () => void
}

const SETTLE_MS = 120_000

/**
 * The fault loop both forms of `pnpm chaos` share: start the target, sign in `clients` people,
 * keep a steady order load going while each fault is injected and ended in turn, stop the load,
 * wait for the accepted orders to settle, print the tables and check the invariants. Whatever
 * fails, the target is stopped. Resolves with the exit status: 0 when every verdict holds.
 */
export async function runChaos (run: ChaosRun): Promise<number> {
  const hardLimit = setTimeout(() => { console.error(`${run.name}: gave up after ${run.hardLimitMs / 60_000} minutes`); process.exit(2) }, run.hardLimitMs)
  hardLimit.unref()
  const started = Date.now()
  const logs: string[] = []
  let exitCode = 1
  let target: ChaosTarget | undefined
  try {
    target = await run.start((source, line) => {
      logs.push(`${source.padEnd(16)} ${line}`)
      if (logs.length > 5_000) logs.shift()
      if (run.echo?.(source, line) === true) console.log(`${run.name}: [${source}] ${line}`)
    })
    console.log(`${run.name}: platform up in ${seconds(started)} s`)
    const { system, db, observer, faults } = target
    const tokens = await Promise.all(Array.from({ length: run.clients }, async () =>
      (await registerAndLogin(system.gatewayUrl, `chaos-${randomUUID()}@example.com`, 'chaos monkey 123')).token))
    const load = startOrderLoad({ gatewayUrl: system.gatewayUrl, tokens, ordersPerSecond: run.ordersPerSecond })
    const windows: FaultWindow[] = []
    try {
      for (const fault of faults) {
        await sleep(run.steadyMs)
        const from = Date.now()
        console.log(`${run.name}: ${fault.name}`)
        try {
          await fault.inject(system)
        } finally {
          await fault.restore()
        }
        windows.push({ fault: fault.name, from, to: Date.now() })
        console.log(`${run.name}: ${fault.name}: everything back after ${seconds(from)} s`)
      }
      await sleep(run.steadyMs)
    } finally {
      await load.stop()
    }

    const accepted = load.answers.filter(a => a.status === 201).map(a => a.orderId!)
    console.log(`${run.name}: load stopped; waiting for ${accepted.length} accepted orders to settle`)
    await settle(db, accepted, Date.now() + SETTLE_MS)
    console.table(faultTable(windows, load.answers))
    run.report?.()
    const verdicts = [...await checkInvariants(db, observer, load.answers), ...run.extraVerdicts?.(load.answers) ?? []]
    console.table(verdicts.map(v => ({ invariant: v.invariant, holds: v.holds ? 'yes' : 'NO', detail: v.detail })))
    exitCode = verdicts.every(v => v.holds) ? 0 : 1
  } catch (err) {
    console.error(`${run.name}: ${(err as Error).stack ?? String(err)}`)
  } finally {
    // Whatever failed, nothing of this run is left behind.
    await target?.stop().catch(err => { console.error(`${run.name}: could not clean up after itself`, err) })
  }
  if (exitCode !== 0) await reportFailure(run.name, logs)
  console.log(`${run.name}: ${exitCode === 0 ? 'every invariant holds' : 'an invariant does not hold'} (${seconds(started)} s)`)
  return exitCode
}

// Errors the services logged (pino level 50 and up) and the gateway's 5xx lines: what a failed
// invariant is usually explained by, wherever they were in the run.
const ERROR_LINE = /"level":(5|6)\d|^haproxy .* 5\d\d \d+ /

/** Prints the run's errors and its last lines, and keeps every line kept in artifacts/ for later. */
async function reportFailure (name: string, logs: string[]): Promise<void> {
  const file = path.join(REPO_ROOT, 'artifacts', `${name.replace(/\W+/g, '-')}-${new Date().toISOString().replace(/[:.]/g, '-')}.log`)
  await mkdir(path.dirname(file), { recursive: true })
  await writeFile(file, logs.join('\n') + '\n')
  const errors = logs.filter(line => ERROR_LINE.test(line))
  console.error([
    `${name}: FAILED; ${errors.length} error lines (first 50):`, ...errors.slice(0, 50),
    `${name}: last log lines:`, ...logs.slice(-100),
    `${name}: the last ${logs.length} log lines are in ${path.relative(REPO_ROOT, file)}`
  ].join('\n'))
}

function seconds (since: number): string {
  return ((Date.now() - since) / 1000).toFixed(1)
}

async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}
