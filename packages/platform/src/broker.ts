import { Connection } from 'rabbitmq-client'
import type { Logger } from './logging.ts'
import { topology } from '@orders/contracts'

/**
 * One AMQP connection per process. rabbitmq-client reconnects by itself with back-off and
 * re-declares the topology each publisher and consumer was created with.
 */
export function createBrokerConnection (url: string, connectionName: string, log: Logger): Connection {
  const connection = new Connection({ url, connectionName, retryLow: 100, retryHigh: 5_000 })
  connection.on('error', err => { log.warn({ err }, 'broker connection error (reconnecting)') })
  connection.on('connection', () => { log.info('broker connected') })
  return connection
}

/**
 * A confirming publisher that declares the whole topology (exchanges, the processor's work
 * queue with its dead-letter exchange and queue, their bindings) before its first publish and
 * after every reconnect, so an event is never published into an exchange that has no queue
 * for it yet (it would be dropped silently). The queue arguments come from the same data the
 * processor declares them with; any difference would be refused by the broker.
 */
export function createEventPublisher (connection: Connection) {
  return connection.createPublisher({
    confirm: true,
    // orders.events is in both lists; each exchange is declared once.
    exchanges: [...new Map([...topology.exchanges, ...topology.orderProcessingQueue.exchanges].map(e => [e.exchange, e])).values()],
    queues: [...topology.orderProcessingQueue.queues],
    queueBindings: [...topology.orderProcessingQueue.queueBindings]
  })
}
