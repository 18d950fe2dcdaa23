import type { Kysely, SelectQueryBuilder, UpdateResult } from 'kysely'
import { sql } from 'kysely'
import type { Publisher } from 'rabbitmq-client'
import { prepareQuery, withPublishSpan, type Logger, type PreparedQuery } from '@orders/platform'
import type { OutboxDatabase } from './table.ts'
import { relayMetrics } from './metrics.ts'

export interface OutboxRelayOptions {
  db: Kysely<any>
  schema: string
  /**
   * A publisher created with `confirm: true` (`send` resolves once the broker has the message),
   * or a function that creates one: then a publisher whose message was NACKed, or whose confirm
   * did not come in time, is closed and replaced before the next batch (see #replacePublisher).
   */
  publisher: Publisher | (() => Publisher)
  /**
   * The broker user the publisher's connection authenticates as, set as every message's AMQP
   * `user-id`: RabbitMQ refuses a message whose user-id is not its connection's user, so a
   * consumer that checks it knows which service published (doc/messaging.md, "Who may publish").
   */
  userId?: string
  /** How long a batch waits for its confirms before its rows go back to pending. */
  confirmTimeoutMs?: number
  /**
   * How long claimed rows stay leased to this relay: longer than a batch can take (the confirm
   * timeout and a margin), so no other relay takes them meanwhile; a relay that died holding
   * them leaves them to the others after this.
   */
  leaseMs?: number
  log: Logger
  /** Rows taken per batch; one confirm wait covers the whole batch. */
  batchSize?: number
  /** The safety net: how often to look for rows nobody woke us for (a crashed writer's). */
  pollIntervalMs?: number
  /** Published rows are kept this long (to look at when debugging), then deleted. */
  retentionMs?: number
  /** How often published rows past their retention are deleted. */
  cleanupIntervalMs?: number
}

/** The broker refused a message (basic.nack), as rabbitmq-client reports it. */
function isNack (err: unknown): boolean {
  return (err as { code?: unknown } | undefined)?.code === 'NACK'
}

class ConfirmTimeout extends Error {
  readonly code = 'CONFIRM_TIMEOUT'
}

// Deletes go in slices so a large backlog never holds long locks or one huge transaction.
export const OUTBOX_CLEANUP_BATCH = 5_000
// Past the confirm timeout, the time to mark a confirmed batch (a busy database, a GC pause).
const LEASE_MARGIN_MS = 5_000

interface ClaimedRow { id: string, exchange: string, routing_key: string, payload: unknown, headers: Record<string, string>, position: string }

/**
 * Publishes outbox rows to RabbitMQ, oldest first, and marks them published only after the
 * broker confirmed them. A batch is two statements and no transaction held open: one UPDATE
 * claims pending rows and leases them to this relay (`leased_until`), the rows are published,
 * and one UPDATE marks them published. Claims use `FOR UPDATE SKIP LOCKED` and skip leased
 * rows, so any number of relays (one in each service process, plus the standalone relay)
 * share the table without publishing one row twice; a relay that dies mid-batch leaves its
 * rows to the others once their lease has run out (at-least-once: consumers recognise the
 * `messageId`).
 *
 * Wake-up: the writer calls `wake()` right after its commit, in-process, which costs the
 * database nothing (a NOTIFY inside every order transaction serialises commits); wake-ups that
 * come while a batch is out are served together by the next batch. Polling every
 * `pollIntervalMs` catches rows whose writer died before it could wake anyone.
 */
export class OutboxRelay {
  readonly #db: Kysely<OutboxDatabase>
  readonly #schema: string
  readonly #createPublisher: (() => Publisher) | undefined
  #publisher: Publisher
  readonly #userId: string | undefined
  readonly #confirmTimeoutMs: number
  readonly #leaseMs: number
  readonly #log: Logger
  readonly #batchSize: number
  readonly #pollIntervalMs: number
  readonly #retentionMs: number
  readonly #cleanupIntervalMs: number
  // Prepared once: kysely would otherwise build and compile them for every batch.
  readonly #claimPending: PreparedQuery<{ leaseMs: number, batchSize: number }, ClaimedRow>
  readonly #markPublished: PreparedQuery<{ ids: string[] }, UpdateResult>
  readonly #handBack: PreparedQuery<{ ids: string[] }, UpdateResult>
  #lastCleanupAt = 0
  #running: Promise<void> | undefined
  #stopping = false
  #woken = false
  #wakeUp: (() => void) | undefined

  constructor (options: OutboxRelayOptions) {
    this.#db = options.db as Kysely<OutboxDatabase>
    this.#schema = options.schema
    this.#createPublisher = typeof options.publisher === 'function' ? options.publisher : undefined
    this.#publisher = typeof options.publisher === 'function' ? options.publisher() : options.publisher
    this.#userId = options.userId
    this.#confirmTimeoutMs = options.confirmTimeoutMs ?? 10_000
    this.#leaseMs = options.leaseMs ?? this.#confirmTimeoutMs + LEASE_MARGIN_MS
    this.#log = options.log
    this.#batchSize = options.batchSize ?? 200
    this.#pollIntervalMs = options.pollIntervalMs ?? 1_000
    this.#retentionMs = options.retentionMs ?? 10 * 60_000
    this.#cleanupIntervalMs = options.cleanupIntervalMs ?? 60_000
    const outbox = this.#db.withSchema(this.#schema)
    this.#claimPending = prepareQuery(['leaseMs', 'batchSize'], values => claimStatement(outbox, values))
    this.#markPublished = prepareQuery(['ids'], values => markPublishedStatement(outbox, values))
    this.#handBack = prepareQuery(['ids'], values => outbox.updateTable('outbox')
      .set({ leased_until: null })
      .where('id', '=', sql<string>`any(${values.ids}::uuid[])`)
      .where('published_at', 'is', null))
  }

  /** Deletes published rows older than the retention; returns how many. */
  async deletePublished (): Promise<number> {
    let deleted = 0
    for (;;) {
      const result = await deletePublishedStatement(this.#db.withSchema(this.#schema), { retentionMs: this.#retentionMs, batchSize: OUTBOX_CLEANUP_BATCH }).executeTakeFirst()
      const count = Number(result.numDeletedRows)
      deleted += count
      if (count < OUTBOX_CLEANUP_BATCH) return deleted
    }
  }

  /** Publishes one batch of pending rows; returns how many were published. */
  async publishPending (): Promise<number> {
    // The oldest pending rows nobody holds, leased to this relay until they are marked
    // published, handed back, or the lease runs out.
    const { rows: claimed } = await this.#claimPending(this.#db, { leaseMs: this.#leaseMs, batchSize: this.#batchSize })
    if (claimed.length === 0) return 0
    // UPDATE … RETURNING has no order of its own: publish oldest first.
    const rows = claimed.sort((a, b) => a.position < b.position ? -1 : a.position > b.position ? 1 : 0)
    const ids = rows.map(row => row.id)
    // All sends go out at once; each resolves on the broker's confirm. A failure (a NACK, a
    // lost connection, no confirm within confirmTimeoutMs) hands every row of the batch back
    // to pending, so it is published again (consumers deduplicate).
    const confirmed = relayMetrics.publishDuration.startTimer({ schema: this.#schema })
    try {
      // Each publish is a span in the trace of the request that wrote its row (until its confirm).
      await this.#sendConfirmed(rows.map(row => async (publisher: Publisher) => {
        await withPublishSpan(row.headers, { exchange: row.exchange, routingKey: row.routing_key, messageId: row.id }, async headers => {
          await publisher.send({
            exchange: row.exchange,
            routingKey: row.routing_key,
            messageId: row.id,
            userId: this.#userId,
            durable: true,
            contentType: 'application/json',
            correlationId: row.headers['x-request-id'],
            headers
          }, row.payload)
        })
      }))
    } catch (err) {
      // Without this the rows would go out again only when their lease runs out.
      await this.#handBack(this.#db, { ids }).catch(releaseErr => { this.#log.warn({ err: releaseErr, schema: this.#schema }, 'could not hand a failed batch back; its lease runs out instead') })
      throw err
    }
    confirmed()
    await this.#markPublished(this.#db, { ids })
    relayMetrics.published.inc({ schema: this.#schema }, rows.length)
    this.#log.debug({ count: rows.length, schema: this.#schema }, 'outbox rows published')
    return rows.length
  }

  /** Runs every send on the current publisher and waits for all confirms, at most confirmTimeoutMs. */
  async #sendConfirmed (sends: Array<(publisher: Publisher) => Promise<void>>): Promise<void> {
    const publisher = this.#publisher
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => { reject(new ConfirmTimeout(`no confirm within ${this.#confirmTimeoutMs} ms`)) }, this.#confirmTimeoutMs)
    })
    const confirmed = Promise.all(sends.map(async send => { await send(publisher) }))
    confirmed.catch(() => {}) // a failure after the timeout belongs to a batch already given up
    try {
      await Promise.race([confirmed, late])
    } catch (err) {
      if (isNack(err) || err instanceof ConfirmTimeout) this.#replacePublisher(publisher, err as Error)
      throw err
    } finally {
      clearTimeout(timer)
    }
  }

  /**
   * RabbitMQ 3.10 NACKs every publish on a channel that reconnected while a quorum queue
   * behind its exchange was electing a leader, for as long as that channel lives, while a new
   * channel works at once (doc/ha.md); a channel whose confirms stopped coming is no better.
   * So such a publisher is closed and the next batch goes out on a fresh one.
   */
  #replacePublisher (failed: Publisher, reason: Error): void {
    if (this.#publisher !== failed) return
    if (this.#createPublisher === undefined) {
      this.#log.warn({ err: reason, schema: this.#schema }, 'outbox publisher failed and cannot be replaced (the relay was given a publisher, not a function creating one)')
      return
    }
    this.#log.warn({ err: reason, schema: this.#schema }, 'outbox publisher replaced: its channel NACKed a message or stopped confirming')
    this.#publisher = this.#createPublisher()
    failed.close().catch(() => {})
  }

  /** Ask the loop to look now (call right after committing outbox rows). */
  wake (): void {
    this.#woken = true
    this.#wakeUp?.()
  }

  start (): void {
    relayMetrics.watchBacklog(this.#db, this.#schema)
    this.#running ??= this.#loop()
  }

  /** Finishes the batch in flight, then stops (and closes its publisher, when it created it). */
  async stop (): Promise<void> {
    this.#stopping = true
    relayMetrics.unwatchBacklog(this.#db, this.#schema)
    this.wake()
    await this.#running
    if (this.#createPublisher !== undefined) await this.#publisher.close()
  }

  async #loop (): Promise<void> {
    let failures = 0
    while (!this.#stopping) {
      this.#woken = false
      let published = 0
      try {
        published = await this.publishPending()
        failures = 0
      } catch (err) {
        failures++
        relayMetrics.failures.inc({ schema: this.#schema })
        this.#log.warn({ err, schema: this.#schema }, 'outbox relay could not publish; rows stay pending')
      }
      if (Date.now() - this.#lastCleanupAt >= this.#cleanupIntervalMs) {
        this.#lastCleanupAt = Date.now()
        await this.deletePublished().catch(err => { this.#log.warn({ err, schema: this.#schema }, 'could not delete published outbox rows') })
      }
      // A full batch means more may be waiting: go again at once.
      if (published === this.#batchSize && failures === 0) continue
      if (this.#woken && failures === 0) continue
      // After failures, back off (up to the poll interval) instead of spinning.
      await this.#sleep(failures > 0 ? Math.min(this.#pollIntervalMs, 100 * 2 ** failures) : this.#pollIntervalMs)
    }
  }

  async #sleep (ms: number): Promise<void> {
    if (this.#stopping) return
    await new Promise<void>(resolve => {
      const timer = setTimeout(done, ms)
      function done (): void { clearTimeout(timer); resolve() }
      // Commits that complete in the same turn of the event loop are served by one batch.
      this.#wakeUp = () => { setImmediate(done) }
    })
    this.#wakeUp = undefined
  }
}

/**
 * The relay's statements, exported so that the plan guard (order-service's
 * test/query-plans.test.ts) and `pnpm bench --only growth` EXPLAIN the very SQL it runs.
 */

/** One statement (its own transaction: its locks last only while it runs) that claims and leases a batch. */
export function claimStatement (outbox: Kysely<OutboxDatabase>, values: { leaseMs: number, batchSize: number }) {
  const batch = outbox.selectFrom('outbox').select('id')
    .where('published_at', 'is', null)
    .where(eb => eb.or([eb('leased_until', 'is', null), eb('leased_until', '<', sql<Date>`now()` as unknown as Date)]))
    .orderBy('created_at')
    .limit(values.batchSize)
    .forUpdate()
    .skipLocked()
  return outbox.updateTable('outbox')
    .set({ leased_until: sql<Date>`now() + ${values.leaseMs} * interval '1 millisecond'` as unknown as Date })
    .where(byIdsOf(batch))
    // created_at to the microsecond, fixed width, so strings sort like the times.
    .returning(['id', 'exchange', 'routing_key', 'payload', 'headers', sql<string>`to_char(created_at at time zone 'UTC', 'YYYYMMDDHH24MISSUS')`.as('position')])
}

/** Marks confirmed rows published (by primary key) and ends their lease. */
export function markPublishedStatement (outbox: Kysely<OutboxDatabase>, values: { ids: string[] }) {
  return outbox.updateTable('outbox')
    .set({ published_at: sql<Date>`now()` as unknown as Date, leased_until: null })
    .where('id', '=', sql<string>`any(${values.ids}::uuid[])`)
}

/** Deletes one slice of published rows past their retention, found through the index on published_at. */
export function deletePublishedStatement (outbox: Kysely<OutboxDatabase>, values: { retentionMs: number, batchSize: number }) {
  return outbox.deleteFrom('outbox')
    .where(byIdsOf(outbox.selectFrom('outbox').select('id')
      .where('published_at', '<', sql<Date>`now() - ${values.retentionMs} * interval '1 millisecond'` as unknown as Date)
      .limit(values.batchSize)))
}

/**
 * `id = any(array(<ids>))`, not `id in (<ids>)`: PostgreSQL plans an IN over a subquery as a
 * semi join, and against an outbox of tens of thousands of rows (a busy retention window)
 * it hashes the few ids and scans the whole table for them, on every batch (35 ms at 40,000
 * rows, growing with the table). The array is computed first, once, and its ids are then looked
 * up in the primary key: the cost follows the batch, not the table (the plan guard,
 * order-service's test/query-plans.test.ts, holds it to that).
 */
function byIdsOf (ids: SelectQueryBuilder<OutboxDatabase, 'outbox', { id: string }>) {
  return sql<boolean>`id = any(array(${ids}))`
}
