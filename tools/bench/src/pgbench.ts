import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { accessSync, constants as fsConstants } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createOrderStatement } from '@orders/order-service/order-statements'
import { createTestDatabase } from '@orders/test-support'
import { ORDER_ITEMS } from './accounts.ts'
import { pgbenchScript } from './pgbench-script.ts'

export interface BaselineFigures {
  name: string
  durationS: number
  clients: number
  transactions: number
  /** Transactions per second, without the initial connection time (pgbench's own figure). */
  tps: number
  latencyAverageMs: number
  failed: number
}

/**
 * Runs pgbench with the order-service's create-order statement (built by the same function the
 * repository uses, so the two cannot drift) at the same concurrency as the HTTP measurements.
 * It runs on a scratch database of its own on the same server, migrated like the system's:
 * its outbox rows then reach no relay, and dropping the database is the whole cleanup.
 */
export async function runCreateOrderBaseline (options: { clients: number, durationS: number, onDatabase?: (name: string) => void }): Promise<BaselineFigures> {
  const pgbench = findPgbench()
  const scratch = await createTestDatabase()
  options.onDatabase?.(scratch.name)
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-pgbench-'))
  const file = path.join(dir, 'create-order.sql')
  const durationS = Math.max(1, Math.round(options.durationS))
  try {
    const { order, statement } = createOrderStatement(scratch.db, { userId: randomUUID(), items: ORDER_ITEMS, requestId: `pgbench-${randomUUID()}` })
    // Every transaction a new order id; everything else as the app sends it.
    const { script, variables } = pgbenchScript(statement.compile(), new Map([[order.id, 'gen_random_uuid()']]))
    await writeFile(file, script)
    const args = [
      '-n', // no VACUUM of pgbench's own tables: there are none
      '-M', 'prepared', // as the order-service sends it: a named statement per connection
      '-c', String(options.clients),
      '-j', String(Math.min(2, options.clients)),
      '-T', String(durationS),
      '-f', file,
      ...Object.entries(variables).flatMap(([name, value]) => ['-D', `${name}=${value}`]),
      scratch.url
    ]
    const output = await run(pgbench, args, (durationS + 60) * 1000)
    const number = (pattern: RegExp) => {
      const match = pattern.exec(output)
      if (!match) throw new Error(`pgbench printed no ${String(pattern)}:\n${output}`)
      return Number(match[1])
    }
    return {
      name: 'pgbench: create-order statement',
      durationS,
      clients: options.clients,
      transactions: number(/number of transactions actually processed: (\d+)/),
      tps: number(/tps = ([\d.]+) \(without initial connection time\)/),
      latencyAverageMs: number(/latency average = ([\d.]+) ms/),
      failed: /number of failed transactions: (\d+)/.test(output) ? number(/number of failed transactions: (\d+)/) : 0
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
    await scratch.drop()
  }
}

/** PostgreSQL 15's server package puts pgbench here; elsewhere it is on PATH. */
export function findPgbench (): string {
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
