import { sql, type Kysely } from 'kysely'

/** What PostgreSQL did during one measurement (from its cumulative statistics; no extension needed). */
export interface DatabaseActivity {
  /** Transactions committed in this database. */
  commits: number
  commitsPerS: number
  rollbacks: number
  rowsInserted: number
  rowsUpdated: number
  rowsDeleted: number
  /** WAL flushes to disk per second, for the whole server (other databases on it included). */
  walSyncsPerS: number
  walMiBPerS: number
}

interface Counters {
  at: number
  commits: number
  rollbacks: number
  inserted: number
  updated: number
  deleted: number
  walSyncs: number
  walBytes: number
}

/**
 * Reads pg_stat_database and pg_stat_wal before and after a measurement. PostgreSQL 15 publishes
 * a backend's counts when its transaction ends, at most about a second late, so the figures of a
 * two-second run are approximate; pg_stat_statements would say more, but it needs a server
 * restart to load (shared_preload_libraries), which a shared server does not get.
 */
export class DatabaseActivityMeter {
  readonly #db: Kysely<any>
  #before: Counters | undefined

  constructor (db: Kysely<any>) {
    this.#db = db
  }

  async start (): Promise<void> {
    this.#before = await this.#read()
  }

  async stop (): Promise<DatabaseActivity> {
    const after = await this.#read()
    const before = this.#before!
    const seconds = (after.at - before.at) / 1000
    const perS = (value: number) => Math.round(value / seconds)
    return {
      commits: after.commits - before.commits,
      commitsPerS: perS(after.commits - before.commits),
      rollbacks: after.rollbacks - before.rollbacks,
      rowsInserted: after.inserted - before.inserted,
      rowsUpdated: after.updated - before.updated,
      rowsDeleted: after.deleted - before.deleted,
      walSyncsPerS: perS(after.walSyncs - before.walSyncs),
      walMiBPerS: Math.round((after.walBytes - before.walBytes) / 2 ** 20 / seconds * 10) / 10
    }
  }

  async #read (): Promise<Counters> {
    // A fresh snapshot each time: within a transaction the statistics would stay frozen.
    const { rows } = await sql<{ commits: string, rollbacks: string, inserted: string, updated: string, deleted: string, wal_syncs: string, wal_bytes: string }>`
      select d.xact_commit as commits, d.xact_rollback as rollbacks, d.tup_inserted as inserted,
             d.tup_updated as updated, d.tup_deleted as deleted, w.wal_sync as wal_syncs, w.wal_bytes as wal_bytes
      from pg_stat_database d, pg_stat_wal w
      where d.datname = current_database()`.execute(this.#db)
    const row = rows[0]!
    return {
      at: Date.now(),
      commits: Number(row.commits),
      rollbacks: Number(row.rollbacks),
      inserted: Number(row.inserted),
      updated: Number(row.updated),
      deleted: Number(row.deleted),
      walSyncs: Number(row.wal_syncs),
      walBytes: Number(row.wal_bytes)
    }
  }
}
