/**
 * `pnpm bench [--duration <s>] [--connections <n>] [--quick] [--max-rate <n>]` — measures the
 * platform through HAProxy and, in the same run, what PostgreSQL alone commits for the
 * create-order statement (pgbench), and prints the ratios against the targets of
 * doc/performance.md. Measures the system at GATEWAY_URL when one answers (`pnpm dev`),
 * otherwise starts one of its own and stops it at the end. Every load is bounded in time and
 * goes to 127.0.0.1 only. Results: one table on stdout, JSON and Markdown in bench-results/.
 */
import { randomBytes } from 'node:crypto'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { sql, type Kysely } from 'kysely'
import { REPO_ROOT } from '@orders/system'
import { call } from '@orders/test-support'
import { parseBenchOptions } from './options.ts'
import { connectOrStartSystem, type BenchTarget } from './target.ts'
import { createBenchUsers, type BenchUser } from './accounts.ts'
import { createProcessLabeller, ProcessCpuMeter } from './cpu.ts'
import { getOrderScenario, listOrdersScenario, loginScenario, measureHttp, postOrdersScenario, type HttpScenario } from './http-load.ts'
import { runCreateOrderBaseline } from './pgbench.ts'
import { measurePipeline } from './pipeline.ts'
import { checkTargets, formatConsoleReport, writeReports, type BenchResult, type Cost } from './report.ts'
import { measureCreatePath } from './create-path.ts'
import { cpuPerCreateRequest, cpuPerPipelineOrder } from './cpu-budgets.ts'
import { measureGrowth } from './growth.ts'
import { audienceChecks, measureAudience } from './audience.ts'

const USERS = 4
// GET /orders?limit=20 needs a full page per user.
const ORDERS_PER_USER = 20
const SETTLE_TIMEOUT_MS = 30_000
// The create path leaves every order it took for the processor: seconds of work at its rate.
const CREATE_PATH_DRAIN_TIMEOUT_MS = 90_000
// The whole run, whatever happens (a full run takes about twelve minutes: four of them the audience's rounds, three the growth phase).
const HARD_LIMIT_MS = 25 * 60_000

const options = parseBenchOptions(process.argv.slice(2))
const log = (line: string) => { console.log(`bench: ${line}`) }
const runId = randomBytes(4).toString('hex')
let target: BenchTarget | undefined
let interrupted = false

const stopTarget = once(async () => { await target?.stop() })
const hardLimit = setTimeout(() => {
  console.error(`bench: gave up after ${HARD_LIMIT_MS / 60_000} minutes`)
  void Promise.race([stopTarget(), sleep(15_000)]).finally(() => process.exit(2))
}, HARD_LIMIT_MS)
hardLimit.unref()
// Ctrl-C: stop the system (or abort its start, which drops its database and vhost); the
// measurement in flight then fails and the run ends through the `finally` below.
const interruption = new AbortController()
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true
    log(`${signal}: stopping`)
    interruption.abort()
    void stopTarget()
    setTimeout(() => process.exit(130), 20_000).unref()
  })
}

let exitCode = 0
try {
  const startedAt = new Date().toISOString()
  target = await connectOrStartSystem({ ...options, signal: interruption.signal, log })
  const result = await runMeasurements(target, startedAt)
  console.log('')
  console.log(formatConsoleReport(result))
  const files = await writeReports(path.join(REPO_ROOT, 'bench-results'), result)
  console.log('')
  log(`written: ${files.map(file => path.relative(REPO_ROOT, file)).join(', ')}`)
} catch (err) {
  // After Ctrl-C the measurement in flight fails as the system goes away: not worth a report.
  if (!interrupted) {
    console.error(`bench: ${(err as Error).stack ?? String(err)}`)
    const lines = target?.lastLogLines() ?? []
    if (lines.length > 0) console.error(['bench: the last lines of the platform\'s processes:', ...lines.slice(-60)].join('\n'))
  }
  exitCode = interrupted ? 130 : 1
} finally {
  await stopTarget().catch(err => { console.error('bench: could not stop the system', err); exitCode = 1 })
}
process.exit(exitCode)

async function runMeasurements (target: BenchTarget, startedAt: string): Promise<BenchResult> {
  const notes: string[] = []
  // The system's database, and pgbench's scratch database once it exists.
  const databaseNames = new Set([decodeURIComponent(new URL(target.databaseUrl).pathname.slice(1))])
  const meter = new ProcessCpuMeter(createProcessLabeller({ ports: target.ports, databaseNames }))
  const measured = async <T>(run: () => Promise<T>): Promise<T & Cost> => {
    meter.start()
    const figures = await run()
    return { ...figures, cpu: meter.stop() }
  }
  const duration = { durationS: options.durationS, connections: options.connections }

  meter.start()
  await sleep(1_000)
  const idleCpu = meter.stop()
  if (idleCpu.machineBusy > 30) notes.push(`the machine was already ${Math.round(idleCpu.machineBusy)} % busy (of ${idleCpu.cores * 100} %) before any load: other work competes with every figure`)

  log(`registering ${USERS} users and placing ${ORDERS_PER_USER} orders each`)
  const users = await createBenchUsers(target.gatewayUrl, runId, USERS, ORDERS_PER_USER)
  await settle(target.db, users, notes)
  // Warms the order-service's JIT, pools and JWKS cache before anything is measured.
  await measureHttp(getOrderScenario(target.gatewayUrl, users), { durationS: 1, connections: options.connections })

  const run = options.only
  let baseline: BenchResult['baseline'] = null
  if (run.has('baseline')) {
    log(`pgbench: the create-order statement, ${options.connections} clients, ${options.durationS} s, on a scratch database`)
    baseline = await measured(async () => await runCreateOrderBaseline({ clients: options.connections, durationS: options.durationS, onDatabase: name => databaseNames.add(name) }))
    log(`  ${Math.round(baseline.tps)} tps`)
  }

  const http: BenchResult['http'] = []
  const measureScenario = async (scenario: HttpScenario) => {
    log(`${scenario.name}: ${options.connections} connections, ${options.durationS} s`)
    const figures = await measured(async () => await measureHttp(scenario, duration))
    log(`  ${Math.round(figures.rps)} req/s, p50 ${figures.p50Ms} ms, p99 ${figures.p99Ms} ms, ${figures.non2xx} non-2xx, ${figures.errors} errors`)
    http.push(figures)
  }
  if (run.has('get')) await measureScenario(getOrderScenario(target.gatewayUrl, users))
  if (run.has('list')) await measureScenario(listOrdersScenario(target.gatewayUrl, users))
  if (run.has('login')) {
    await measureScenario(loginScenario(target.gatewayUrl, users[0]!))
    // The hashes of the logins autocannon gave up on at the end still run on the user-service's
    // thread pool; one more login queues behind them, so its answer means they are done.
    await waitForLogin(target.gatewayUrl, users[0]!, notes)
  }

  let pipelineFigures: BenchResult['pipeline'] = null
  if (run.has('pipeline')) {
    log(`pipeline: searching the highest sustained rate (steps of ${options.stepS} s, at most ${options.maxRate} orders/s)`)
    if (!target.startedHere) notes.push('measured a running system: its PROCESSING_DELAY_MS (500 ms in `pnpm dev`) bounds the pipeline; the issue\'s figures need PROCESSING_DELAY_MS=0 — stop `pnpm dev` and let the bench start its own system')
    const pipeline = await measurePipeline({ gatewayUrl: target.gatewayUrl, users, meter, startRate: options.startRate, maxRate: options.maxRate, stepS: options.stepS, durationS: options.durationS, log })
    pipelineFigures = pipeline
    if (pipeline.cappedByMaxRate) notes.push(`the pipeline sustained the highest rate offered (--max-rate ${options.maxRate}); its limit is higher`)
    await settle(target.db, users, notes)
  }

  let createPath: BenchResult['createPath'] = null
  if (run.has('post')) {
    // After the others: its backlog (every order it created) is processed once it is over.
    const scenario = postOrdersScenario(target.gatewayUrl, users)
    log(`${scenario.name}${target.processor ? ' with the order-processor stopped' : ''}: ${options.connections} connections, ${options.durationS} s`)
    const postStart = new Date()
    createPath = await measureCreatePath({
      processor: target.processor,
      measure: async () => await measured(async () => await measureHttp(scenario, duration)),
      drain: async () => { await settle(target.db, users, notes, CREATE_PATH_DRAIN_TIMEOUT_MS) },
      log
    })
    log(`  ${Math.round(createPath.rps)} req/s, p50 ${createPath.p50Ms} ms, p99 ${createPath.p99Ms} ms, ${createPath.non2xx} non-2xx, ${createPath.errors} errors`)
    if (!createPath.processorStopped) {
      const progress = await orderProgress(target.db, users, postStart)
      notes.push(`measured a running system, whose processor the bench cannot stop: of the ${progress.total} orders POST /orders created, ${progress.final} were already final when it ended (the pipeline worked beside it), so its CPU is no create-path figure`)
    }
  }

  let audience: BenchResult['audience'] = null
  if (run.has('audience')) {
    // Its own users (their tokens must outlive its rounds) and its own watchers.
    audience = await measureAudience({ gatewayUrl: target.gatewayUrl, ports: target.ports, meter, runId, pairs: options.quick ? 1 : 3, idleS: options.quick ? 3 : 10, latencyS: options.durationS, log, notes })
    await settle(target.db, users, notes)
  }

  let growth: BenchResult['growth'] = null
  if (run.has('growth')) {
    // Last: it leaves a million orders behind, and the processor a backlog of the POSTs' orders.
    if (target.processor === undefined) notes.push('growth was not measured: it seeds 1,000,000 orders, so only into a system the bench started (stop `pnpm dev`, or --start)')
    else growth = await measureGrowth({ gatewayUrl: target.gatewayUrl, db: target.db, runId, processor: target.processor, ...duration, measured, settle: async users => { await settle(target.db, users, notes) }, log })
  }

  const cpuPer = { createRequest: cpuPerCreateRequest(createPath), pipelineOrder: cpuPerPipelineOrder(pipelineFigures) }
  const partial = { baseline, http, createPath, pipeline: pipelineFigures, cpuPer, audience, growth }
  return {
    startedAt,
    finishedAt: new Date().toISOString(),
    system: target.startedHere ? `started by the bench (PROCESSING_DELAY_MS=0, LOG_LEVEL=${options.logLevel})` : `already running at ${target.gatewayUrl}`,
    options: { durationS: options.durationS, connections: options.connections, stepS: options.stepS, quick: options.quick, maxRate: options.maxRate, only: [...options.only] },
    idleCpu,
    ...partial,
    targets: [...checkTargets(partial), ...audienceChecks(audience)],
    notes
  }
}

/** Waits (bounded) until none of the bench users' orders is still on its way, so the next measurement starts on a quiet system. */
async function settle (db: Kysely<any>, users: BenchUser[], notes: string[], timeoutMs = SETTLE_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const open = await openOrders(db, users)
    if (open === 0) return
    if (Date.now() > deadline) {
      notes.push(`${open} orders were still not final ${timeoutMs / 1000} s after a phase; the next measurement shared the machine with their processing`)
      return
    }
    await sleep(250)
  }
}

async function openOrders (db: Kysely<any>, users: BenchUser[]): Promise<number> {
  const { rows } = await sql<{ open: string }>`
    select count(*) as open from orders.orders
    where user_id = any(${users.map(u => u.id)}::uuid[]) and status in ('new', 'processing')`.execute(db)
  return Number(rows[0]?.open ?? 0)
}

async function orderProgress (db: Kysely<any>, users: BenchUser[], since: Date): Promise<{ total: number, final: number }> {
  const { rows } = await sql<{ total: string, final: string }>`
    select count(*) as total, count(*) filter (where status not in ('new', 'processing')) as final from orders.orders
    where user_id = any(${users.map(u => u.id)}::uuid[]) and created_at >= ${since}`.execute(db)
  return { total: Number(rows[0]?.total ?? 0), final: Number(rows[0]?.final ?? 0) }
}

async function waitForLogin (gatewayUrl: string, user: BenchUser, notes: string[]): Promise<void> {
  try {
    await call(`${gatewayUrl}/login`, { method: 'POST', body: { email: user.email, password: user.password }, timeoutMs: SETTLE_TIMEOUT_MS })
  } catch {
    notes.push(`the user-service was still hashing ${SETTLE_TIMEOUT_MS / 1000} s after POST /login; the next measurement shared the machine with it`)
  }
}

function once (action: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined
  return async () => { running ??= action(); await running }
}
