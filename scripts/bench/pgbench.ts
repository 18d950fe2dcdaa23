import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { accessSync, constants as fsConstants } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { sql, type Kysely } from 'kysely'

export interface BaselineFigures {
  name: string
  durationS: number
  clients: number
  transactions: number
  /** Transactions per second, without the initial connection time (pgbench's own figure). */
  tps: number
  latencyAverageMs: number
  failed: number
  /** Rows pgbench inserted and this run deleted again afterwards (orders + outbox). */
  rowsDeleted: number
}

const ITEMS = '[{"sku": "BENCH-BOOK", "quantity": 3, "unit_price": 499}, {"sku": "BENCH-PEN", "quantity": 1, "unit_price": 100}]'
const TOTAL = 3 * 499 + 100

/**
 * The least work an accepted order needs, as the order-service does it
 * (packages/order-service/src/order-repository.ts, packages/outbox/src/append.ts): one
 * transaction with the order row (RETURNING *, as the repository asks for it) and its
 * order_created outbox row, whose payload carries the stored order. Two differences, both for
 * the cleanup: every row belongs to one user id made up for this run, and the outbox row is
 * written already published, so no relay ever sends it.
 */
function createOrderScript (): string {
  const payload = `{"type": "order_created", "version": 1, "occurred_at": ":created_at", "data": {"order": {"id": ":order_id", "user_id": ":bench_user", "status": "new", "items": ${ITEMS}, "total": ${TOTAL}, "failure_reason": null, "created_at": ":created_at", "updated_at": ":created_at"}}}`
  return [
    'BEGIN;',
    'INSERT INTO orders.orders (user_id, status, items, total, idempotency_key, request_hash) ' +
      `VALUES (':bench_user', 'new', '${ITEMS}'::jsonb, ${TOTAL}, NULL, NULL) ` +
      'ON CONFLICT (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING ' +
      'RETURNING id AS order_id, user_id, status, items, total, failure_reason, idempotency_key, request_hash, created_at, updated_at \\gset',
    'INSERT INTO orders.outbox (exchange, routing_key, payload, headers, published_at) ' +
      `VALUES ('orders.events', 'order_created', '${payload}'::jsonb, '{"x-request-id": ":bench_marker"}'::jsonb, now()) RETURNING id;`,
    'COMMIT;',
    ''
  ].join('\n')
}

/**
 * Runs pgbench with the create-order transaction on the system's own database, at the same
 * concurrency as the HTTP measurements, then deletes every row it inserted.
 */
export async function runCreateOrderBaseline (options: { databaseUrl: string, db: Kysely<any>, clients: number, durationS: number }): Promise<BaselineFigures> {
  const pgbench = findPgbench()
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-pgbench-'))
  const script = path.join(dir, 'create-order.sql')
  const benchUser = randomUUID()
  const marker = `pgbench-${randomUUID()}`
  const durationS = Math.max(1, Math.round(options.durationS))
  try {
    await writeFile(script, createOrderScript())
    const args = [
      '-n', // no VACUUM of pgbench's own tables: there are none
      '-c', String(options.clients),
      '-j', String(Math.min(2, options.clients)),
      '-T', String(durationS),
      '-f', script,
      '-D', `bench_user=${benchUser}`,
      '-D', `bench_marker=${marker}`,
      options.databaseUrl
    ]
    const output = await run(pgbench, args, (durationS + 60) * 1000)
    const number = (pattern: RegExp) => {
      const match = pattern.exec(output)
      if (!match) throw new Error(`pgbench printed no ${String(pattern)}:\n${output}`)
      return Number(match[1])
    }
    return {
      name: 'pgbench: create-order transaction',
      durationS,
      clients: options.clients,
      transactions: number(/number of transactions actually processed: (\d+)/),
      tps: number(/tps = ([\d.]+) \(without initial connection time\)/),
      latencyAverageMs: number(/latency average = ([\d.]+) ms/),
      failed: /number of failed transactions: (\d+)/.test(output) ? number(/number of failed transactions: (\d+)/) : 0,
      rowsDeleted: await deleteBaselineRows(options.db, benchUser, marker)
    }
  } catch (err) {
    await deleteBaselineRows(options.db, benchUser, marker).catch(() => 0)
    throw err
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

async function deleteBaselineRows (db: Kysely<any>, benchUser: string, marker: string): Promise<number> {
  const outbox = await sql`delete from orders.outbox where published_at is not null and headers->>'x-request-id' = ${marker}`.execute(db)
  const orders = await sql`delete from orders.orders where user_id = ${benchUser}`.execute(db)
  return Number(outbox.numAffectedRows ?? 0n) + Number(orders.numAffectedRows ?? 0n)
}

/** PostgreSQL 15's server package puts pgbench here; elsewhere it is on PATH. */
function findPgbench (): string {
  for (const candidate of ['/usr/lib/postgresql/15/bin/pgbench', ...(process.env.PATH ?? '').split(path.delimiter).map(dir => path.join(dir, 'pgbench'))]) {
    try {
      accessSync(candidate, fsConstants.X_OK)
      return candidate
    } catch {}
  }
  throw new Error('pgbench not found: it comes with the PostgreSQL server package (apt-get install postgresql-15)')
}

async function run (command: string, args: string[], timeoutMs: number): Promise<string> {
  return await new Promise((resolve, reject) => {
    execFile(command, args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 10 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${path.basename(command)} failed: ${err.message}\n${stderr}`))
      else resolve(`${stdout}\n${stderr}`)
    })
  })
}
