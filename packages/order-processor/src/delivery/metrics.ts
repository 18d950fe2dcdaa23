import type { Connection } from 'rabbitmq-client'
import { QUEUES } from '@orders/contracts'
import { counter, gauge, type Counter } from '@orders/platform'

/** The processor's metrics (doc/operations.md). */
export const processorMetrics: { messages: Counter<'result'>, deadLetters: Counter<'reason'> } = {
  /**
   * How each delivery of order_created ended: completed, payment_declined, already_processed
   * (a redelivery of a final order), retried (copied to a delay queue), dead_lettered, or
   * handed_back (requeued: shutting down, or the copy could not be published).
   */
  messages: counter({ name: 'order_processor_messages_total', help: 'Deliveries of order_created by how they ended', labelNames: ['result'] as const }),
  deadLetters: counter({ name: 'order_processor_dead_letters_total', help: 'Messages sent to the dead-letter queue, by reason', labelNames: ['reason'] as const })
}

/**
 * Reports the work queue's and the dead-letter queue's depth on every scrape (a passive
 * declare returns the count), so the alerts need no broker plugin. Until close().
 */
export function watchQueueDepths (connection: Connection): void {
  watchedConnection = connection
}
let watchedConnection: Connection | undefined

gauge({
  name: 'order_processor_queue_messages',
  help: 'Messages ready in the processor\'s work queue and dead-letter queue',
  labelNames: ['queue'] as const,
  async collect () {
    this.reset()
    const connection = watchedConnection
    if (!connection?.ready) return
    await Promise.all([QUEUES.orderProcessing, QUEUES.orderProcessingDeadLetters].map(async queue => {
      try {
        const { messageCount } = await connection.queueDeclare({ queue, passive: true })
        this.set({ queue }, messageCount)
      } catch {
        // Not declared yet, or the broker is away: no sample rather than a failed scrape.
      }
    }))
  }
})

export function unwatchQueueDepths (connection: Connection): void {
  if (watchedConnection === connection) watchedConnection = undefined
}
