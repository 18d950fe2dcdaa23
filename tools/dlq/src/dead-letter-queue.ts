import type { Channel, Connection, SyncMessage } from 'rabbitmq-client'
import { BROKER_HEADERS, DELIVERY_HEADERS, EXCHANGES, QUEUES, ROUTING_KEYS, retryAttemptOf } from '@orders/contracts'

/** One message in the dead-letter queue, as `pnpm dlq list` shows it. */
export interface DeadLetter {
  messageId: string | undefined
  orderId: string | undefined
  requestId: string | undefined
  /** The processor's reason (`x-dead-letter-reason`), or the broker's (`delivery_limit`, …). */
  reason: string
  detail: string | undefined
  /** Delayed retries made before it was dead-lettered. */
  retryAttempts: number
  /** ISO 8601; when the processor or the broker gave up, if the message says. */
  failedAt: string | undefined
}

interface BrokerDeath { reason?: unknown, queue?: unknown, time?: unknown }

/** Reads the headers either dead-lettering path leaves: the processor's own, or the broker's x-death. */
export function describeDeadLetter (message: Pick<SyncMessage, 'body' | 'headers' | 'messageId' | 'correlationId'>): DeadLetter {
  const headers = message.headers ?? {}
  const text = (name: string) => typeof headers[name] === 'string' ? headers[name] as string : undefined
  const death = (Array.isArray(headers['x-death']) ? headers['x-death'][0] : undefined) as BrokerDeath | undefined
  return {
    messageId: message.messageId,
    orderId: orderIdIn(message.body),
    requestId: text('x-request-id') ?? message.correlationId ?? message.messageId,
    reason: text(DELIVERY_HEADERS.deadLetterReason) ?? text('x-first-death-reason') ?? 'unknown',
    detail: text(DELIVERY_HEADERS.deadLetterDetail) ??
      (death ? `dead-lettered by the broker from ${String(death.queue)} (${String(death.reason)})` : undefined),
    retryAttempts: retryAttemptOf(headers),
    // x-death times are AMQP timestamps: seconds since the epoch.
    failedAt: text(DELIVERY_HEADERS.failedAt) ?? (typeof death?.time === 'number' ? new Date(death.time * 1000).toISOString() : undefined)
  }
}

/** rabbitmq-client parsed JSON bodies; one it could not parse is still a Buffer (and names no order). */
function orderIdIn (body: unknown): string | undefined {
  const id = (body as { data?: { order?: { id?: unknown } } } | null)?.data?.order?.id
  return typeof id === 'string' ? id : undefined
}

/** Headers a replayed message must not carry: it starts afresh, with the whole retry budget. */
const NOT_REPLAYED = new Set<string>([
  ...BROKER_HEADERS, DELIVERY_HEADERS.deadLetterReason, DELIVERY_HEADERS.deadLetterDetail, DELIVERY_HEADERS.failedAt, DELIVERY_HEADERS.retryAttempt
])

/** Reports how far a long operation got: `done` of `total` messages. */
export type OnProgress = (done: number, total: number) => void

/**
 * The processor's dead-letter queue (`order-processor.dead-letters`, a classic queue), read and
 * changed without losing or reordering what stays: messages are taken with basic.get without
 * an ack; those not replayed are requeued together at the end, and a classic queue puts a
 * requeued message back where it was. If this process dies midway, the broker requeues them.
 * It declares nothing: the queues are the processor's, and a vhost where it never ran simply
 * has no dead letters.
 */
export class DeadLetterQueue {
  readonly #connection: Connection

  constructor (connection: Connection) {
    this.#connection = connection
  }

  async count (): Promise<number> {
    return await this.#withQueue(async (_channel, messageCount) => messageCount, 0)
  }

  /** The first `limit` dead letters, oldest first, and how many there are in all. */
  async list (options: { limit?: number, onProgress?: OnProgress } = {}): Promise<{ deadLetters: DeadLetter[], total: number }> {
    return await this.#withQueue(async (channel, total) => {
      const deadLetters: DeadLetter[] = []
      let lastTag: number | undefined
      try {
        while (deadLetters.length < (options.limit ?? Infinity)) {
          const message = await channel.basicGet({ queue: QUEUES.orderProcessingDeadLetters })
          if (!message) break
          lastTag = message.deliveryTag
          deadLetters.push(describeDeadLetter(message))
          options.onProgress?.(deadLetters.length, Math.min(total, options.limit ?? Infinity))
        }
      } finally {
        if (lastTag !== undefined) channel.basicNack({ deliveryTag: lastTag, multiple: true, requeue: true })
      }
      return { deadLetters, total: Math.max(total, deadLetters.length) }
    }, { deadLetters: [], total: 0 })
  }

  /**
   * Publishes the chosen dead letters back to the work queue (through `order-processor.work`,
   * confirmed, `mandatory` so that a missing work queue is an error) and only then removes each
   * from this queue. Only messages present when the replay starts are looked at, so one that
   * fails again at once cannot loop.
   */
  async replay (selection: { all: true } | { messageIds: readonly string[] }, onProgress?: OnProgress): Promise<{ replayed: DeadLetter[], notFound: string[] }> {
    const wanted = 'all' in selection ? undefined : new Set(selection.messageIds)
    let returned = false
    const publisher = this.#connection.createPublisher({ confirm: true })
    publisher.on('basic.return', () => { returned = true })
    const replayed: DeadLetter[] = []
    try {
      await this.#withQueue(async (channel, present) => {
        let keptTag: number | undefined
        try {
          for (let seen = 0; seen < present; seen++) {
            const message = await channel.basicGet({ queue: QUEUES.orderProcessingDeadLetters })
            if (!message) break
            onProgress?.(seen + 1, present)
            if (wanted && !(message.messageId !== undefined && wanted.has(message.messageId))) {
              keptTag = message.deliveryTag
              continue
            }
            // The return of an unroutable message arrives before its confirm.
            returned = false
            await publisher.send(replayEnvelope(message), message.body)
            if (returned) throw new Error(`no queue took the replayed message ${message.messageId ?? ''}: has the order-processor declared ${QUEUES.orderProcessing}?`)
            channel.basicAck({ deliveryTag: message.deliveryTag })
            replayed.push(describeDeadLetter(message))
          }
        } finally {
          // Acknowledged tags are settled already; `multiple` requeues the ones kept before.
          if (keptTag !== undefined) channel.basicNack({ deliveryTag: keptTag, multiple: true, requeue: true })
        }
      }, undefined)
    } finally {
      await publisher.close()
    }
    const found = new Set(replayed.map(d => d.messageId))
    return { replayed, notFound: wanted ? [...wanted].filter(id => !found.has(id)) : [] }
  }

  /** Drops every dead letter; resolves with how many there were. */
  async purge (): Promise<number> {
    return await this.#withQueue(async channel => (await channel.queuePurge({ queue: QUEUES.orderProcessingDeadLetters })).messageCount, 0)
  }

  /** Runs `work` on the queue, or answers `ifMissing` when the processor never declared it. */
  async #withQueue<T> (work: (channel: Channel, messageCount: number) => Promise<T>, ifMissing: T): Promise<T> {
    const channel = await this.#connection.acquire()
    try {
      let messageCount: number
      try {
        ({ messageCount } = await channel.queueDeclare({ queue: QUEUES.orderProcessingDeadLetters, passive: true }))
      } catch (err) {
        if ((err as { code?: string }).code === 'NOT_FOUND') return ifMissing
        throw err
      }
      return await work(channel, messageCount)
    } finally {
      if (channel.active) await channel.close()
    }
  }
}

function replayEnvelope (message: SyncMessage) {
  const { contentType, contentEncoding, correlationId, messageId, timestamp, type, appId } = message
  const headers = Object.fromEntries(Object.entries(message.headers ?? {}).filter(([name]) => !NOT_REPLAYED.has(name)))
  return {
    exchange: EXCHANGES.processorWork,
    routingKey: ROUTING_KEYS.orderCreated,
    mandatory: true,
    durable: true,
    headers,
    contentType, contentEncoding, correlationId, messageId, timestamp, type, appId
  }
}
