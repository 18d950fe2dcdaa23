import { sql, type Kysely } from 'kysely'
import type { Connection } from 'rabbitmq-client'
import { QUEUES } from '@orders/contracts'
import type { LoadAnswer } from './load.ts'

const FINAL = ['completed', 'failed', 'cancelled']

export interface Verdict { invariant: string, holds: boolean, detail: string }

/** Waits until every accepted order is final and every outbox is drained, or the deadline. */
export async function settle (db: Kysely<any>, acceptedIds: string[], deadline: number): Promise<void> {
  for (;;) {
    const open = await openOrders(db, acceptedIds)
    const pending = await pendingOutboxRows(db)
    if (open === 0 && pending === 0) return
    if (Date.now() > deadline) return
    await new Promise(resolve => setTimeout(resolve, 500))
  }
}

export async function checkInvariants (db: Kysely<any>, broker: Connection, answers: LoadAnswer[]): Promise<Verdict[]> {
  const accepted = answers.filter(a => a.status === 201).map(a => a.orderId!)
  const stored = accepted.length === 0
    ? []
    : (await sql<{ id: string, status: string }>`select id, status from orders.orders where id = any(${accepted}::uuid[])`.execute(db)).rows
  const missing = accepted.length - stored.length
  const notFinal = stored.filter(o => !FINAL.includes(o.status))
  const unclear = answers.filter(a => a.status !== 201 && !(a.status >= 500 || a.status === 0))
  const unclear5xx = answers.filter(a => a.status >= 500 && !a.message)
  const charges = await paymentCounts(db)
  const doubled = charges.filter(c => c.payments > 1)
  const processed = stored.filter(o => o.status === 'completed' || o.status === 'failed')
  const uncharged = processed.filter(o => !charges.some(c => c.order_id === o.id))
  const { messageCount: deadLetters } = await broker.queueDeclare({ queue: QUEUES.orderProcessingDeadLetters, passive: true })
    .catch(() => ({ messageCount: 0 }))

  return [
    { invariant: 'every 201 is stored (no silent success)', holds: missing === 0, detail: `${accepted.length} accepted, ${missing} missing` },
    { invariant: 'every accepted order is final', holds: notFinal.length === 0, detail: notFinal.length === 0 ? `${stored.length} final` : `${notFinal.length} not final: ${notFinal.slice(0, 3).map(o => `${o.id} ${o.status}`).join(', ')}` },
    { invariant: 'no order charged twice', holds: doubled.length === 0, detail: `${charges.length} payments, ${doubled.length} doubled` },
    { invariant: 'every processed order charged once', holds: uncharged.length === 0, detail: `${processed.length} processed, ${uncharged.length} without a payment` },
    { invariant: 'outboxes drained', holds: await pendingOutboxRows(db) === 0, detail: `${await pendingOutboxRows(db)} pending` },
    { invariant: 'no dead letters', holds: deadLetters === 0, detail: `${deadLetters} in ${QUEUES.orderProcessingDeadLetters}` },
    { invariant: 'failures are clear 5xx (or a refused connection)', holds: unclear.length === 0 && unclear5xx.length === 0, detail: `${answers.length - accepted.length} failed; ${unclear.length + unclear5xx.length} unclear` }
  ]
}

async function openOrders (db: Kysely<any>, ids: string[]): Promise<number> {
  if (ids.length === 0) return 0
  const { rows } = await sql<{ n: string }>`select count(*) as n from orders.orders where id = any(${ids}::uuid[]) and status <> all(${FINAL}::text[])`.execute(db)
  return Number(rows[0]!.n)
}

async function pendingOutboxRows (db: Kysely<any>): Promise<number> {
  const { rows } = await sql<{ n: string }>`select (select count(*) from orders.outbox where published_at is null) + (select count(*) from users.outbox where published_at is null) as n`.execute(db)
  return Number(rows[0]!.n)
}

async function paymentCounts (db: Kysely<any>): Promise<Array<{ order_id: string, payments: number }>> {
  const { rows } = await sql<{ order_id: string, payments: string }>`select order_id, count(*) as payments from processor.payments group by order_id`.execute(db)
  return rows.map(r => ({ order_id: r.order_id, payments: Number(r.payments) }))
}
