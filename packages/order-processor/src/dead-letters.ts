import type { Channel, Connection, SyncMessage } from 'rabbitmq-client'
import { EXCHANGES, QUEUES, ROUTING_KEYS, topology } from '@orders/contracts'
import { createConfirmedPublisher } from './confirmed-publisher.ts'
import { DELIVERY_HEADERS, retryAttemptOf, withoutBrokerHeaders } from './delivery-headers.ts'
import { copyOf } from './message-copy.ts'
import { decodeOrderCreated } from './order-created-message.ts'

/** One message in the dead-letter queue, as `pnpm dlq list` shows it. */
export interface DeadLetter {
  messageId: string | undefined
  orderId: string | undefined
  requestId: string
  /** The processor's reason (`x-dead-letter-reason`), or the broker's (`delivery_limit`, …). */
  reason: string
  detail: string | undefined
  /** Delayed retries made before it was dead-lettered. */
  retryAttempts: number
  /** ISO 8601; when the processor or the broker gave up, if the message says. */
  failedAt: string | undefined
}

interface BrokerDeath { reason?: unknown, queue?: unknown, time?: unknown, count?: unknown }

/** Reads the headers either dead-lettering path leaves: the processor's own, or the broker's x-death. */
export function describeDeadLetter (message: Pick<SyncMessage, 'body' | 'headers' | 'messageId' | 'correlationId'>): DeadLetter {
  const headers = message.headers ?? {}
  const decoded = decodeOrderCreated({ ...message, messageId: message.messageId ?? '-' })
  const death = (Array.isArray(headers['x-death']) ? headers['x-death'][0] : undefined) as BrokerDeath | undefined
  const ownReason = headers[DELIVERY_HEADERS.deadLetterReason]
  const brokerReason = headers['x-first-death-reason']
  const failedAt = headers[DELIVERY_HEADERS.failedAt]
  return {
    messageId: message.messageId,
    orderId: decoded.orderId,
    requestId: decoded.requestId,
    reason: typeof ownReason === 'string' ? ownReason : typeof brokerReason === 'string' ? brokerReason : 'unknown',
    detail: typeof headers[DELIVERY_HEADERS.deadLetterDetail] === 'string'
      ? headers[DELIVERY_HEADERS.deadLetterDetail] as string
      : death ? `dead-lettered by the broker from ${String(death.queue)} (${String(death.reason)})` : undefined,
    retryAttempts: retryAttemptOf(headers),
    // x-death times are AMQP timestamps: seconds since the epoch.
    failedAt: typeof failedAt === 'string' ? failedAt : typeof death?.time === 'number' ? new Date(death.time * 1000).toISOString() : undefined
  }
}

const [, deadLetterQueue] = topology.orderProcessingQueue.queues

/** Headers of a dead letter that must not follow it back into the work queue: it starts afresh. */
const DEAD_LETTER_ONLY_HEADERS = [
  DELIVERY_HEADERS.deadLetterReason, DELIVERY_HEADERS.deadLetterDetail, DELIVERY_HEADERS.failedAt, DELIVERY_HEADERS.retryAttempt
]

/**
 * The processor's dead-letter queue (`order-processor.dead-letters`, a classic queue), read and
 * changed without losing or reordering what stays: messages are taken with basic.get without
 * an ack; those not replayed are requeued together at the end, and a classic queue puts a
 * requeued message back where it was. If this process dies midway, the broker requeues them.
 */
export class DeadLetterQueue {
  readonly #connection: Connection

  constructor (connection: Connection) {
    this.#connection = connection
  }

  async count (): Promise<number> {
    return await this.#withChannel(async (_channel, messageCount) => messageCount)
  }

  /** The first `limit` dead letters, oldest first, and how many there are in all. */
  async list (options: { limit?: number } = {}): Promise<{ deadLetters: DeadLetter[], total: number }> {
    return await this.#withChannel(async (channel, total) => {
      const deadLetters: DeadLetter[] = []
      let lastTag: number | undefined
      try {
        while (deadLetters.length < (options.limit ?? Infinity)) {
          const message = await channel.basicGet({ queue: QUEUES.orderProcessingDeadLetters })
          if (!message) break
          lastTag = message.deliveryTag
          deadLetters.push(describeDeadLetter(message))
        }
      } finally {
        if (lastTag !== undefined) channel.basicNack({ deliveryTag: lastTag, multiple: true, requeue: true })
      }
      return { deadLetters, total: Math.max(total, deadLetters.length) }
    })
  }

  /**
   * Publishes the chosen dead letters back to the work queue (through `order-processor.work`,
   * confirmed) and only then removes them from this queue. Without its dead-letter and retry
   * headers a replayed message gets the whole retry budget again. Only messages present when
   * the replay starts are looked at, so one that fails again at once cannot loop.
   */
  async replay (selection: { all: true } | { messageIds: readonly string[] }): Promise<{ replayed: DeadLetter[], notFound: string[] }> {
    const wanted = 'all' in selection ? undefined : new Set(selection.messageIds)
    const publisher = createConfirmedPublisher(this.#connection, topology.orderProcessingQueue)
    try {
      return await this.#withChannel(async (channel, present) => {
        const replayed: DeadLetter[] = []
        let keptTag: number | undefined
        try {
          for (let seen = 0; seen < present; seen++) {
            const message = await channel.basicGet({ queue: QUEUES.orderProcessingDeadLetters })
            if (!message) break
            if (wanted && !(message.messageId !== undefined && wanted.has(message.messageId))) {
              keptTag = message.deliveryTag
              continue
            }
            const copy = copyOf(message, {
              exchange: EXCHANGES.processorWork,
              routingKey: ROUTING_KEYS.orderCreated,
              headers: withoutBrokerHeaders(message.headers, DEAD_LETTER_ONLY_HEADERS)
            })
            await publisher.publish(copy.envelope, copy.body)
            channel.basicAck({ deliveryTag: message.deliveryTag })
            replayed.push(describeDeadLetter(message))
          }
        } finally {
          // Acknowledged tags are settled already; `multiple` requeues the ones kept before.
          if (keptTag !== undefined) channel.basicNack({ deliveryTag: keptTag, multiple: true, requeue: true })
        }
        const found = new Set(replayed.map(d => d.messageId))
        return { replayed, notFound: wanted ? [...wanted].filter(id => !found.has(id)) : [] }
      })
    } finally {
      await publisher.close()
    }
  }

  /** Drops every dead letter; resolves with how many there were. */
  async purge (): Promise<number> {
    return await this.#withChannel(async channel => (await channel.queuePurge({ queue: QUEUES.orderProcessingDeadLetters })).messageCount)
  }

  async #withChannel<T> (work: (channel: Channel, messageCount: number) => Promise<T>): Promise<T> {
    const channel = await this.#connection.acquire()
    try {
      // Declared like everyone declares it, so an empty vhost simply has no dead letters.
      const { messageCount } = await channel.queueDeclare({ ...deadLetterQueue })
      return await work(channel, messageCount)
    } finally {
      if (channel.active) await channel.close()
    }
  }
}
