import type { Connection } from 'rabbitmq-client'
import { EXCHANGES, QUEUES, ROUTING_KEYS, topology } from '@orders/contracts'
import type { Logger } from '@orders/platform'
import { createConfirmedPublisher } from './confirmed-publisher.ts'
import { withoutBrokerHeaders } from './delivery-headers.ts'
import { copyOf } from './message-copy.ts'

/**
 * Earlier versions consumed the classic queue `order-processor.order_created`. A queue's type
 * cannot change, so the quorum work queue has a new name; the old queue, still bound to
 * `orders.events`, would otherwise collect a copy of every order_created forever. This unbinds
 * it, moves what is left in it to the work queue (each message confirmed there before it is
 * acknowledged here) and deletes it once it is empty and nobody consumes it.
 * Resolves with the number moved, or undefined when there was no legacy queue.
 */
export async function retireLegacyQueue (connection: Connection, log: Logger): Promise<number | undefined> {
  const queue = QUEUES.legacyOrderProcessing
  const channel = await connection.acquire()
  try {
    try {
      await channel.queueDeclare({ queue, passive: true })
    } catch (err) {
      if ((err as { code?: string }).code === 'NOT_FOUND') return undefined
      throw err
    }
    await channel.queueUnbind({ queue, exchange: EXCHANGES.orderEvents, routingKey: ROUTING_KEYS.orderCreated })
    const publisher = createConfirmedPublisher(connection, topology.orderProcessingQueue)
    let moved = 0
    try {
      for (let message = await channel.basicGet({ queue }); message; message = await channel.basicGet({ queue })) {
        const copy = copyOf(message, { exchange: EXCHANGES.processorWork, routingKey: ROUTING_KEYS.orderCreated, headers: withoutBrokerHeaders(message.headers) })
        await publisher.publish(copy.envelope, copy.body)
        channel.basicAck({ deliveryTag: message.deliveryTag })
        moved++
      }
    } finally {
      await publisher.close()
    }
    // Refused while an older processor still consumes it; the next start tries again.
    await channel.queueDelete({ queue, ifEmpty: true, ifUnused: true })
    log.info({ queue, moved, work_queue: QUEUES.orderProcessing }, 'legacy classic queue retired; its messages moved to the work queue')
    return moved
  } finally {
    if (channel.active) await channel.close()
  }
}
