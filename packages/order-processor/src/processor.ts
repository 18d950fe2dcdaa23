import type { Consumer, Connection } from 'rabbitmq-client'
import { SCOPES } from '@orders/contracts'
import { createBrokerConnection, createServiceInstance, ServiceTokenClient, type Logger, type ServiceInstance } from '@orders/platform'
import type { ProcessorConfig } from './config.ts'
import orderProcessorApp from './app.ts'
import { OrderCallbackClient } from './order-callback-client.ts'
import { createOrderCreatedConsumer, type OrderCreatedConsumerOptions } from './consumer.ts'
import { processOrder } from './process-order.ts'

export interface OrderProcessor {
  app: ServiceInstance
  connection: Connection
  consumer: Consumer
  /** Stops taking messages, lets those in flight finish, then closes the port and the connection. */
  close: () => Promise<void>
}

export interface OrderProcessorOptions {
  /** Defaults to the health app's logger (pino, LOG_LEVEL). */
  log?: Logger
  retryBackoffMs?: OrderCreatedConsumerOptions['retryBackoffMs']
}

/**
 * Wires the processor: broker connection, service token, order-service client, the
 * order_created consumer and the health app (listening on HOST:PORT).
 */
export async function startOrderProcessor (config: ProcessorConfig, options: OrderProcessorOptions = {}): Promise<OrderProcessor> {
  const app = createServiceInstance({ service: 'order-processor', logLevel: config.LOG_LEVEL })
  const log = options.log ?? app.log
  const connection = createBrokerConnection(config.AMQP_URL, 'order-processor', log)
  await app.register(orderProcessorApp, { connection })
  try {
    // Listen before consuming: a process that cannot serve its health port takes no work.
    await app.listen({ host: config.HOST, port: config.PORT })
  } catch (err) {
    await connection.close()
    throw err
  }

  const tokens = new ServiceTokenClient({
    tokenUrl: config.TOKEN_URL,
    clientId: config.PROCESSOR_CLIENT_ID,
    clientSecret: config.PROCESSOR_CLIENT_SECRET,
    scope: SCOPES.orderStatusWrite
  })
  const orderService = new OrderCallbackClient({ gatewayUrl: config.GATEWAY_URL, tokens })
  const consumer = createOrderCreatedConsumer({
    connection,
    log,
    prefetch: config.PROCESSOR_PREFETCH,
    retryBackoffMs: options.retryBackoffMs,
    processEvent: async (event, requestId, messageLog) => await processOrder(event.data.order, {
      orders: orderService.forMessage(requestId, messageLog),
      paymentLimit: config.PAYMENT_LIMIT,
      processingDelayMs: config.PROCESSING_DELAY_MS
    })
  })
  let closing: Promise<void> | undefined
  async function closeInOrder (): Promise<void> {
    await consumer.close() // waits for the handlers in flight, so their acks go out
    await app.close()
    await connection.close()
  }
  return {
    app,
    connection,
    consumer,
    async close () { await (closing ??= closeInOrder()) }
  }
}
