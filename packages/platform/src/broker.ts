import { Connection } from 'rabbitmq-client'
import type { Logger } from 'pino'

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
