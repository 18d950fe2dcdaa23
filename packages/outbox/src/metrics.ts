import { sql, type Kysely } from 'kysely'
import { counter, gauge, histogram, type Counter, type Histogram } from '@orders/platform'

/**
 * The outbox's metrics (doc/operations.md). Backlog and age are read from the table when
 * Prometheus scrapes, so they are right even while no relay of this process publishes.
 */
const watched = new Map<string, Kysely<any>>()

interface Backlog { pending: number, oldest_seconds: number }

// Both gauges below are collected in the same scrape: the second reuses the first's query.
const REUSE_MS = 1_000
let lastRead: { at: number, backlogs: Promise<Map<string, Backlog>> } | undefined

async function readBacklogs (): Promise<Map<string, Backlog>> {
  if (lastRead && Date.now() - lastRead.at < REUSE_MS) return await lastRead.backlogs
  lastRead = { at: Date.now(), backlogs: queryBacklogs() }
  return await lastRead.backlogs
}

async function queryBacklogs (): Promise<Map<string, Backlog>> {
  const result = new Map<string, Backlog>()
  await Promise.all([...watched].map(async ([schema, db]) => {
    try {
      // The partial index on unpublished rows keeps this cheap however large the table is.
      const { rows } = await sql<Backlog>`select count(*)::int as pending,
        coalesce(extract(epoch from now() - min(created_at)), 0)::float8 as oldest_seconds
        from ${sql.table(`${schema}.outbox`)} where published_at is null`.execute(db)
      if (rows[0]) result.set(schema, rows[0])
    } catch {
      // Database away: no sample for this schema, rather than a failed scrape of every metric.
    }
  }))
  return result
}

gauge({
  name: 'outbox_pending_rows',
  help: 'Outbox rows not yet published, per schema',
  labelNames: ['schema'] as const,
  async collect () {
    this.reset()
    for (const [schema, backlog] of await readBacklogs()) this.set({ schema }, backlog.pending)
  }
})
gauge({
  name: 'outbox_oldest_pending_age_seconds',
  help: 'Age of the oldest unpublished outbox row, per schema (0 when none is pending)',
  labelNames: ['schema'] as const,
  async collect () {
    this.reset()
    for (const [schema, backlog] of await readBacklogs()) this.set({ schema }, backlog.oldest_seconds)
  }
})

export const relayMetrics: {
  publishDuration: Histogram<'schema'>
  published: Counter<'schema'>
  failures: Counter<'schema'>
  watchBacklog: (db: Kysely<any>, schema: string) => void
  unwatchBacklog: (db: Kysely<any>, schema: string) => void
} = {
  publishDuration: histogram({
    name: 'outbox_publish_duration_seconds',
    help: 'Time from sending a batch of outbox rows to the broker\'s last confirm, per schema',
    labelNames: ['schema'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]
  }),
  published: counter({ name: 'outbox_published_messages_total', help: 'Outbox rows published and confirmed, per schema', labelNames: ['schema'] as const }),
  failures: counter({ name: 'outbox_publish_failures_total', help: 'Relay batches that could not be published (rows stay pending), per schema', labelNames: ['schema'] as const }),
  watchBacklog (db: Kysely<any>, schema: string): void { watched.set(schema, db) },
  unwatchBacklog (db: Kysely<any>, schema: string): void { if (watched.get(schema) === db) watched.delete(schema) }
}
