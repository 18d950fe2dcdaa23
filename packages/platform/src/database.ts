import { Kysely, PostgresDialect, sql } from 'kysely'
import pg from 'pg'
import { observePool } from './metrics.ts'
import { namedStatementFor } from './prepared-query.ts'

// int8 (bigint) columns hold money totals in minor units, at most 100 items × 1000 × 10^8 = 10^13,
// well inside Number's exact range, so parse them as numbers rather than strings.
const PG_INT8_OID = 20
const typeParsers = {
  getTypeParser (oid: number, format?: 'text' | 'binary') {
    if (oid === PG_INT8_OID) return (value: string) => Number(value)
    return pg.types.getTypeParser(oid, format as 'text')
  }
}

/**
 * A node-postgres client that sends the statements of prepared queries (`prepareQuery`) as
 * named statements: parsed and planned by PostgreSQL once per connection, then only bound and
 * executed. kysely's PostgreSQL driver calls `query(text, values)` for everything; any other
 * text goes as before (unnamed). node-postgres keeps which names a connection has prepared, and a
 * new connection (after a restart or a failover) prepares them again. PostgreSQL replans a named
 * statement by itself when a table it reads changes; one whose result columns changed (a
 * migration that alters a table a running replica selects `*` from) fails until the replica's
 * connections are replaced, which is why migrations that change columns come with a restart.
 */
class NamedStatementClient extends pg.Client {
  override query (...args: any[]): any {
    const [text, values] = args
    if (typeof text === 'string' && Array.isArray(values) && args.length === 2) {
      const name = namedStatementFor(text)
      if (name !== undefined) return super.query({ name, text, values })
    }
    return (super.query as (...args: any[]) => any)(...args)
  }
}

export interface DatabaseOptions {
  connectionString: string
  poolSize?: number
  applicationName?: string
}

export function createDatabase<DB> (options: DatabaseOptions): Kysely<DB> {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.poolSize ?? 10,
    application_name: options.applicationName,
    types: typeParsers,
    Client: NamedStatementClient,
    // Fail a request quickly with 503 rather than queueing forever while PostgreSQL is away.
    connectionTimeoutMillis: 5_000
  })
  // A client that loses its server emits 'error': on the pool while idle, on the client itself
  // while checked out (between the queries of a transaction). Without listeners either would
  // crash the process; the query in flight fails on its own (→ 503) and the next one reconnects.
  pool.on('error', () => {})
  pool.on('connect', client => { client.on('error', () => {}) })
  observePool(pool, options.applicationName ?? 'default')
  return new Kysely<DB>({ dialect: new PostgresDialect({ pool }) })
}

export async function pingDatabase (db: Kysely<any>): Promise<void> {
  await sql`select 1`.execute(db)
}

// 25006 (read_only_sql_transaction): during a failover a new connection can reach the old
// primary after it came back as a standby, before the front's health check moves traffic on
// (doc/ha.md); the primary is unavailable for that moment, not the query wrong.
const CONNECTION_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EPIPE', '57P01', '57P02', '57P03', '25006'])

/** True for errors that mean "the database is unreachable" (or cannot take writes now), as opposed to a bad query. */
export function isDatabaseUnavailable (error: unknown): boolean {
  if (!(error instanceof Error)) return false
  const code = (error as { code?: unknown }).code
  if (typeof code === 'string' && (CONNECTION_ERROR_CODES.has(code) || code.startsWith('08'))) return true
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/.test(error.message)
}

/** Creates the database named in `connectionString` if it does not exist yet (used by `pnpm migrate up`). */
export async function ensureDatabaseExists (connectionString: string): Promise<boolean> {
  const target = new URL(connectionString)
  const name = decodeURIComponent(target.pathname.slice(1))
  const maintenance = new URL(connectionString)
  maintenance.pathname = '/postgres'
  const client = new pg.Client({ connectionString: maintenance.toString() })
  await client.connect()
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name])
    if (rowCount) return false
    await client.query(`create database "${name.replaceAll('"', '""')}"`)
    return true
  } finally {
    await client.end()
  }
}
