import { Connection } from 'rabbitmq-client'
import type { Logger } from './logging.ts'
import { EVENT_EXCHANGES } from '@orders/contracts'

type EventExchange = (typeof EVENT_EXCHANGES)[keyof typeof EVENT_EXCHANGES]

/**
 * One AMQP connection per process. rabbitmq-client reconnects by itself with back-off and
 * re-declares the topology each publisher and consumer was created with.
 *
 * `url` may list the nodes of a cluster, comma-separated (AMQP_URL, doc/ports-and-env.md):
 * every reconnect tries the next node, so a process whose node dies resumes on a live one.
 * Credentials and vhost come from the first URL; the others give host and port.
 */
export function createBrokerConnection (url: string, connectionName: string, log: Logger): Connection {
  const connection = new Connection({ ...brokerAddresses(url), connectionName, retryLow: 100, retryHigh: 5_000 })
  connection.on('error', err => { log.warn({ err }, 'broker connection error (reconnecting)') })
  connection.on('connection', () => { log.info('broker connected') })
  return connection
}

/** rabbitmq-client's options for one URL or a comma-separated list of a cluster's nodes. */
export function brokerAddresses (url: string): { url: string, hosts?: string[] } {
  const urls = url.split(',').map(part => part.trim()).filter(part => part !== '')
  const [first] = urls
  if (first === undefined) throw new Error('no broker URL given')
  if (urls.length === 1) return { url: first }
  return { url: first, hosts: urls.map(node => new URL(node).host) }
}

/**
 * A confirming publisher of one service's events: it declares the exchange it publishes to
 * (`orders.events` unless told otherwise) before its first publish and after every reconnect,
 * and nothing else. The queues behind it belong to their consumers, which declare them; the
 * order-processor is ready only once its work queue is bound, and the gateway opens after it
 * (doc/messaging.md, "Who declares what").
 */
export function createEventPublisher (connection: Connection, exchange: EventExchange = EVENT_EXCHANGES.orderEvents) {
  return connection.createPublisher({ confirm: true, exchanges: [{ ...exchange }] })
}
