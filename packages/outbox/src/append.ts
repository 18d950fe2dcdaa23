import type { Insertable, Kysely, Transaction } from 'kysely'
import { traceHeaders } from '@orders/platform'
import type { OutboxDatabase, OutboxTable } from './table.ts'

export interface OutboxMessage {
  exchange: string
  routingKey: string
  payload: unknown
  /** The request that caused this event; travels as the `x-request-id` AMQP header. */
  requestId?: string
}

/**
 * The outbox row that carries `message` (for an INSERT of one's own, e.g. inside a CTE). Its
 * headers hold the active trace context (`traceparent`), taken here, inside the transaction of
 * the state change, so the relay's publish and the consumers join the request's trace.
 */
export function outboxRow (message: OutboxMessage): Insertable<OutboxTable> {
  return {
    exchange: message.exchange,
    routing_key: message.routingKey,
    payload: JSON.stringify(message.payload),
    headers: outboxHeaders(message.requestId)
  }
}

/** The `headers` column of an outbox row (JSON): the active trace context and the request id. */
export function outboxHeaders (requestId?: string): string {
  const headers: Record<string, string> = { ...traceHeaders(), ...(requestId ? { 'x-request-id': requestId } : {}) }
  return JSON.stringify(headers)
}

/**
 * Appends an event to the outbox. Call it with the transaction that makes the state change,
 * so both commit or neither does; then wake the relay after the commit.
 */
export async function appendToOutbox (trx: Transaction<any> | Kysely<any>, schema: string, message: OutboxMessage): Promise<string> {
  const row = await (trx as Kysely<OutboxDatabase>).withSchema(schema).insertInto('outbox')
    .values(outboxRow(message))
    .returning('id')
    .executeTakeFirstOrThrow()
  return row.id
}
