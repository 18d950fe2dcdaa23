import { randomUUID } from 'node:crypto'
import { Type, type Static } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { EventOrder, OrderCreatedV1 } from '@orders/contracts'

/**
 * What the processor reads of an `order_created` v1 event, and all it checks. The trust boundary
 * is the broker: only the order-service's relay publishes `order_created` (from its outbox rows,
 * written by typed code from an order it validated at its HTTP edge, against the contract its
 * tests check), and the processor's own retry, grace and dead-letter queues carry copies of
 * those. So the event is not validated whole on every delivery; what the rules act on (the
 * order's id, total and grace period) is checked, because a wrong value there would charge or
 * change the wrong thing, and anything else fails the message into the dead-letter queue
 * instead of the rules.
 */
const ProcessedOrderCreated = Type.Object({
  type: OrderCreatedV1.properties.type,
  version: OrderCreatedV1.properties.version,
  data: Type.Object({ order: Type.Pick(EventOrder, ['id', 'total', 'cancellable_until']) })
})
export type ProcessedOrderCreated = Static<typeof ProcessedOrderCreated>
// Compiled once: a check is a few property reads, not a walk of the schema.
const processedOrderCreated = TypeCompiler.Compile(ProcessedOrderCreated)

/** The parts of an AMQP delivery this module reads (rabbitmq-client's AsyncMessage has them). */
export interface OrderCreatedDelivery {
  body: unknown
  headers?: Record<string, unknown>
  messageId?: string
  correlationId?: string
}

export type DecodedOrderCreated =
  | { valid: true, event: ProcessedOrderCreated, orderId: string, requestId: string }
  /** `orderId` when the body got far enough to name one, so the error log can. */
  | { valid: false, reason: string, orderId: string | undefined, requestId: string }

/**
 * The request that created the order, so this message's logs and HTTP calls join the
 * gateway's and the order-service's. The outbox relay sets the header and correlationId;
 * the messageId (the outbox row id) still identifies the message when they are missing.
 */
export function requestIdOf (delivery: OrderCreatedDelivery): string {
  const header = delivery.headers?.['x-request-id']
  if (typeof header === 'string' && header !== '') return header
  return delivery.correlationId || delivery.messageId || randomUUID()
}

export function decodeOrderCreated (delivery: OrderCreatedDelivery): DecodedOrderCreated {
  const requestId = requestIdOf(delivery)
  const parsed = parseBody(delivery.body)
  if (!parsed.ok) return { valid: false, reason: parsed.reason, orderId: undefined, requestId }
  const orderId = orderIdIn(parsed.value)
  if (!processedOrderCreated.Check(parsed.value)) {
    const first = processedOrderCreated.Errors(parsed.value).First()
    const reason = first ? `not an order_created v1 event: ${first.path || '/'} ${first.message}` : 'not an order_created v1 event'
    return { valid: false, reason, orderId, requestId }
  }
  return { valid: true, event: parsed.value, orderId: parsed.value.data.order.id, requestId }
}

// rabbitmq-client already parsed `application/json` bodies; a body it could not parse, or
// one sent without that content type, arrives as a Buffer (or a string for text/plain).
function parseBody (body: unknown): { ok: true, value: unknown } | { ok: false, reason: string } {
  if (!Buffer.isBuffer(body) && typeof body !== 'string') return { ok: true, value: body }
  try {
    return { ok: true, value: JSON.parse(body.toString()) }
  } catch (err) {
    return { ok: false, reason: `body is not JSON: ${(err as Error).message}` }
  }
}

function orderIdIn (value: unknown): string | undefined {
  const id = (value as { data?: { order?: { id?: unknown } } } | null)?.data?.order?.id
  return typeof id === 'string' ? id : undefined
}
