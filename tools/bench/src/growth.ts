import { sql, type Kysely } from 'kysely'
import { seedOrderHistory } from '@orders/test-support'
import { explainQuery, orderPathQueries } from '@orders/order-service/query-plans'
import { createBenchUsers, type BenchUser } from './accounts.ts'
import type { ProcessorControl } from './create-path.ts'
import { platformCpuPer } from './cpu-budgets.ts'
import { isPlatformLabel, type CpuReport } from './cpu.ts'
import { getOrderScenario, listOrdersScenario, measureHttp, postOrdersScenario, type HttpFigures, type HttpScenario } from './http-load.ts'
import type { Cost, TargetCheck } from './report.ts'
import { round } from './stats.ts'

// The issue's figures: a year of orders, 100 per user.
export const SEEDED_ORDERS = 1_000_000
export const SEEDED_USERS = 10_000
// Published outbox rows past the retention, left for the relays' cleanup to delete, and rows
// published within it: what 10 minutes at about 110 orders/s (three events each) leave.
const STALE_OUTBOX_ROWS = 100_000
const RECENT_OUTBOX_ROWS = 200_000
const READERS = 4
const WRITERS = 4
const ORDERS_EACH = 20
const RATIO_TARGET = 0.8
// The relays delete past their retention every 60 s (packages/outbox/src/relay.ts).
const CLEANUP_TIMEOUT_MS = 90_000

export interface GrowthRoute {
  name: string
  empty: HttpFigures & Cost
  seeded: HttpFigures & Cost
  /** 2xx/s seeded ÷ 2xx/s empty. */
  ratio: number
  /**
   * ms of CPU per request, the platform's processes together (the bench and other people's
   * work left out): what a shared machine distorts least, where the rates move with whatever
   * else runs.
   */
  cpuMsPerRequest: { empty: number | null, seeded: number | null }
  /** % of the 200 % that processes outside the platform and the bench took, during each. */
  foreignPercent: { empty: number, seeded: number }
}

export interface GrowthPlan { runBy: string, name: string, problems: string[], executionMs: number, text: string[] }

export interface GrowthFigures {
  seed: { orders: number, users: number, staleOutboxRows: number, recentOutboxRows: number, seconds: number, ordersPerReader: number, ordersTableMb: number }
  routes: GrowthRoute[]
  outbox: {
    beforeSeed: number
    afterSeed: number
    /** Rows published longer ago than the retention, once the cleanup ran (null: it did not within the timeout). */
    staleAfterCleanup: number
    cleanupSeconds: number | null
    atEnd: number
  }
  plans: GrowthPlan[]
}

/**
 * "Cost stays flat as data grows" (issue 13): the rates of POST /orders, GET /orders/{id} and
 * GET /orders?limit=20 on a nearly empty database, then again with 1,000,000 orders of 10,000
 * users stored, in the same run, and each query's plan on the seeded database. The readers
 * (GET) are owners of the seeded history (about 120 orders each, spread over the whole table),
 * the worst case for the list; the writers (POST) are users of their own, so the readers'
 * histories do not grow during the run. The processor is stopped throughout, as on the create
 * path, so that the pipeline's work does not share the machine with either measurement; it is
 * started again at the end (the orders of the POSTs then wait for it: this phase runs last).
 */
export async function measureGrowth (options: {
  gatewayUrl: string
  db: Kysely<any>
  runId: string
  processor: ProcessorControl
  durationS: number
  connections: number
  measured: <T>(run: () => Promise<T>) => Promise<T & Cost>
  /** Waits until these users' orders are final. */
  settle: (users: BenchUser[]) => Promise<void>
  log: (line: string) => void
}): Promise<GrowthFigures> {
  const { db, log } = options
  log(`growth: registering ${READERS} readers with ${ORDERS_EACH} orders each and ${WRITERS} writers`)
  const readers = await createBenchUsers(options.gatewayUrl, `${options.runId}-reader`, READERS, ORDERS_EACH)
  const writers = await createBenchUsers(options.gatewayUrl, `${options.runId}-writer`, WRITERS, 0)
  await options.settle(readers)
  await options.processor.stop()
  try {
    const empty = await measureRoutes(readers, writers, 'empty', options)
    const beforeSeed = await outboxRows(db)

    log(`growth: seeding ${SEEDED_ORDERS.toLocaleString('en')} orders of ${SEEDED_USERS.toLocaleString('en')} users, ${RECENT_OUTBOX_ROWS.toLocaleString('en')} outbox rows within the retention and ${STALE_OUTBOX_ROWS.toLocaleString('en')} past it (SQL), then VACUUM ANALYZE`)
    const history = await seedOrderHistory(db, { orders: SEEDED_ORDERS, users: SEEDED_USERS, knownUsers: readers.map(r => r.id), staleOutboxRows: STALE_OUTBOX_ROWS, recentOutboxRows: RECENT_OUTBOX_ROWS })
    const afterSeed = await outboxRows(db)
    log(`  ${round(history.seconds, 1)} s; outbox ${beforeSeed.total} rows before, ${afterSeed.total} after`)
    const cleanup = await waitForCleanup(db)
    log(`  the relays' cleanup: ${cleanup.seconds === null ? `${cleanup.stale} stale rows still there after ${CLEANUP_TIMEOUT_MS / 1000} s` : `stale rows gone after ${round(cleanup.seconds, 1)} s`}`)
    // The dead tuples of the cleanup, and fresh statistics for the plans; then a checkpoint, so
    // that the checkpointer does not write the seeding's pages out during the measurements.
    await sql`vacuum analyze orders.outbox`.execute(db)
    await sql`checkpoint`.execute(db)

    for (const reader of readers) reader.orderIds = await orderIdsOf(db, reader.id)
    const seeded = await measureRoutes(readers, writers, 'seeded', options)
    const plans = await explainOrderPath(db, readers[0]!)
    for (const plan of plans) log(`  plan of ${plan.runBy}, ${plan.name}: ${plan.problems.length === 0 ? 'indexes only' : plan.problems.join(', ')} (${round(plan.executionMs, 2)} ms)`)
    const { rows: [size] } = await sql<{ mb: number }>`select pg_total_relation_size('orders.orders') / 1048576.0 as mb`.execute(db)
    return {
      seed: { orders: history.orders, users: history.userIds.length, staleOutboxRows: history.staleOutboxRows, recentOutboxRows: history.recentOutboxRows, seconds: round(history.seconds, 1), ordersPerReader: readers[0]!.orderIds.length, ordersTableMb: Math.round(Number(size!.mb)) },
      routes: empty.map((before, i) => {
        const after = seeded[i]!
        return {
          name: before.name,
          empty: before,
          seeded: after,
          ratio: round(after.okRps / before.okRps, 3),
          cpuMsPerRequest: { empty: cpuMsPerRequest(before), seeded: cpuMsPerRequest(after) },
          foreignPercent: { empty: foreignPercent(before.cpu), seeded: foreignPercent(after.cpu) }
        }
      }),
      outbox: { beforeSeed: beforeSeed.total, afterSeed: afterSeed.total, staleAfterCleanup: cleanup.stale, cleanupSeconds: cleanup.seconds === null ? null : round(cleanup.seconds, 1), atEnd: (await outboxRows(db)).total },
      plans
    }
  } finally {
    await options.processor.start()
  }
}

async function measureRoutes (readers: BenchUser[], writers: BenchUser[], label: string, options: Parameters<typeof measureGrowth>[0]): Promise<Array<HttpFigures & Cost>> {
  const duration = { durationS: options.durationS, connections: options.connections }
  const scenarios = (): HttpScenario[] => [getOrderScenario(options.gatewayUrl, readers), listOrdersScenario(options.gatewayUrl, readers), postOrdersScenario(options.gatewayUrl, writers)]
  // The same warm-up before each set, a second of each route: the JIT of each handler, the
  // pools, and the pages the readers' rows and the indexes' upper levels are on.
  for (const scenario of scenarios()) await measureHttp(scenario, { durationS: 1, connections: options.connections })
  const figures: Array<HttpFigures & Cost> = []
  for (const scenario of scenarios()) {
    options.log(`growth, ${label}: ${scenario.name}, ${options.connections} connections, ${options.durationS} s`)
    const result = await options.measured(async () => await measureHttp(scenario, duration))
    options.log(`  ${Math.round(result.okRps)} 2xx/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, ${result.non2xx} non-2xx, ${result.errors} errors`)
    figures.push(result)
  }
  return figures
}

function cpuMsPerRequest (figures: HttpFigures & Cost): number | null {
  return platformCpuPer(figures.name, figures.cpu, figures.requests)?.totalMs ?? null
}

function foreignPercent (cpu: CpuReport): number {
  return Math.round(Object.entries(cpu.byProcess).filter(([label]) => !isPlatformLabel(label) && !label.startsWith('bench')).reduce((sum, [, percent]) => sum + percent, 0))
}

async function outboxRows (db: Kysely<any>): Promise<{ total: number, stale: number }> {
  const { rows: [row] } = await sql<{ total: number, stale: number }>`
    select count(*)::int as total, count(*) filter (where published_at < now() - interval '10 minutes')::int as stale from orders.outbox`.execute(db)
  return row!
}

/** Waits (bounded) until the relays have deleted the rows published longer ago than their retention. */
async function waitForCleanup (db: Kysely<any>): Promise<{ stale: number, seconds: number | null }> {
  const started = Date.now()
  for (;;) {
    const { stale } = await outboxRows(db)
    if (stale === 0) return { stale, seconds: (Date.now() - started) / 1000 }
    if (Date.now() - started > CLEANUP_TIMEOUT_MS) return { stale, seconds: null }
    await new Promise(resolve => setTimeout(resolve, 1_000))
  }
}

async function orderIdsOf (db: Kysely<any>, userId: string): Promise<string[]> {
  const { rows } = await sql<{ id: string }>`select id from orders.orders where user_id = ${userId} order by created_at desc, id desc`.execute(db)
  return rows.map(row => row.id)
}

/** EXPLAIN (ANALYZE, BUFFERS) of every query of the order path, aimed at a reader's seeded history. */
async function explainOrderPath (db: Kysely<any>, reader: BenchUser): Promise<GrowthPlan[]> {
  const { rows: orders } = await sql<{ id: string, created_at: Date }>`
    select id, created_at from orders.orders where user_id = ${reader.id} order by created_at desc, id desc`.execute(db)
  const { rows: outbox } = await sql<{ id: string }>`select id from orders.outbox order by created_at desc limit 200`.execute(db)
  const sample = { userId: reader.id, orderId: orders[60]!.id, cursor: { createdAt: orders[19]!.created_at, id: orders[19]!.id }, outboxIds: outbox.map(row => row.id) }
  const plans: GrowthPlan[] = []
  for (const query of orderPathQueries(db, sample)) {
    const plan = await explainQuery(db, query)
    plans.push({ runBy: query.runBy, name: query.name, problems: plan.problems, executionMs: plan.executionMs, text: plan.text })
  }
  return plans
}

/** seeded ÷ empty ≥ 0.8 for each route; no plan with a sequential scan or a sort; no stale outbox row left. */
export function growthTargets (growth: GrowthFigures | null): TargetCheck[] {
  if (growth === null) return []
  const check = (key: string, name: string, value: number, comparison: '≥' | '≤', target: number, unit: string): TargetCheck =>
    ({ key, name, value, comparison, target, unit, pass: comparison === '≥' ? value >= target : value <= target })
  return [
    ...growth.routes.map(route => check(`growth-${route.name}`, `${route.name} 2xx/s with ${growth.seed.orders.toLocaleString('en')} orders ÷ nearly empty`, route.ratio, '≥', RATIO_TARGET, '×')),
    check('growth-plans', 'queries of the order path with a Seq Scan or a Sort, seeded', growth.plans.filter(plan => plan.problems.length > 0).length, '≤', 0, ''),
    check('growth-outbox', 'outbox rows past retention left after the relays\' cleanup', growth.outbox.staleAfterCleanup, '≤', 0, '')
  ]
}

/** The phase's lines of the report (Markdown when `markdown`, else plain text). */
export function formatGrowth (growth: GrowthFigures | null, markdown: boolean): string[] {
  if (growth === null) return []
  const s = growth.seed
  const head = `Data growth: ${s.orders.toLocaleString('en')} orders of ${s.users.toLocaleString('en')} users seeded in ${s.seconds} s (orders table ${s.ordersTableMb} MB; each reader ${s.ordersPerReader} orders)`
  const rows = growth.routes.map(r => [r.name, `${Math.round(r.empty.okRps)}`, `${Math.round(r.seeded.okRps)}`, `${r.ratio}`, r.ratio >= RATIO_TARGET ? 'PASS' : 'FAIL',
    `${r.empty.p99Ms} / ${r.seeded.p99Ms}`, `${r.cpuMsPerRequest.empty ?? '—'} / ${r.cpuMsPerRequest.seeded ?? '—'}`, `${r.foreignPercent.empty} / ${r.foreignPercent.seeded}`])
  const o = growth.outbox
  const outbox = `outbox rows: ${o.beforeSeed} before seeding, ${o.afterSeed} after (+${s.recentOutboxRows} published within the retention, +${s.staleOutboxRows} past it), ${o.staleAfterCleanup} past retention left ${o.cleanupSeconds === null ? 'after the timeout' : `${o.cleanupSeconds} s later`}, ${o.atEnd} at the end`
  const plans = growth.plans.map(p => `${p.runBy}, ${p.name}: ${p.problems.length === 0 ? 'indexes only' : p.problems.join(', ')}, ${round(p.executionMs, 2)} ms`)
  const header = ['route', 'empty 2xx/s', 'seeded 2xx/s', 'seeded ÷ empty', `≥ ${RATIO_TARGET}`, 'p99 ms empty / seeded', 'platform CPU ms/req empty / seeded', 'others\' CPU % empty / seeded']
  if (!markdown) {
    const width = (i: number) => Math.max(header[i]!.length, ...rows.map(row => row[i]!.length))
    const line = (cells: string[]) => '  ' + cells.map((cell, i) => cell.padEnd(width(i))).join('  ').trimEnd()
    return ['', `${head}:`, line(header), ...rows.map(line), `  ${outbox}`, '  plans, seeded:', ...plans.map(p => `    ${p}`)]
  }
  const mdRow = (cells: string[]) => `| ${cells.join(' | ')} |`
  return ['', '## Data growth', '', `${head}.`, '', mdRow(header), mdRow(header.map(() => '---')), ...rows.map(mdRow), '', `- ${outbox}`, '', '### Plans on the seeded database', '',
    ...growth.plans.flatMap(p => [`**${p.runBy}**, ${p.name}: ${p.problems.length === 0 ? 'indexes only' : p.problems.join(', ')}`, '', '```', ...p.text, '```', ''])]
}
