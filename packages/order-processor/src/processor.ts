import { setTimeout as sleep } from 'node:timers/promises'
import type { Kysely } from 'kysely'
import type { Consumer, Connection } from 'rabbitmq-client'
import { SCOPES } from '@orders/contracts'
import { createBrokerConnection, createDatabase, createServiceInstance, ServiceTokenClient, type Logger, type ServiceInstance } from '@orders/platform'
import type { ProcessorConfig } from './config.ts'
import orderProcessorApp from './app.ts'
import { OrderServiceClient } from './order-service-client.ts'
import { createOrderCreatedConsumer } from './delivery/consumer.ts'
import { createConfirmedPublisher, declareProcessorTopology } from './delivery/failed-messages.ts'
import { unwatchQueueDepths, watchQueueDepths } from './delivery/metrics.ts'
import { PaymentRepository, type ProcessorDatabase } from './rules/payments.ts'
import { processOrder, type RuleSettings } from './rules/process-order.ts'

export interface OrderProcessor {
  app: ServiceInstance
  connection: Connection
  consumer: Consumer
  db: Kysely<ProcessorDatabase>
  /**
   * Stops taking messages and lets those in flight finish; what is still running after the
   * grace period is handed back to the queue. Then closes the port, the broker and the database.
   */
  close: () => Promise<void>
}

export interface OrderProcessorOptions {
  /** Defaults to the health app's logger (pino, LOG_LEVEL). */
  log?: Logger
  /** How long close() lets in-flight messages finish before handing them back. */
  shutdownGraceMs?: number
  /** Pause before handing back a message whose failure could not be published. */
  handBackPauseMs?: number
}

// Below close-with-grace's 10 s (platform/shutdown.ts), so the hand-back and the closing of
// connections still happen before the process is forced to exit.
const DEFAULT_SHUTDOWN_GRACE_MS = 7_000

/**
 * The composition root: database, broker connection, service token, order-service client,
 * the rules' dependencies, the order_created consumer with its publisher of failed messages,
 * and the health app (HOST:PORT).
 */
export async function startOrderProcessor (config: ProcessorConfig, options: OrderProcessorOptions = {}): Promise<OrderProcessor> {
  const app = createServiceInstance({ service: 'order-processor', logLevel: config.LOG_LEVEL })
  const log = options.log ?? app.log
  const db = createDatabase<ProcessorDatabase>({ connectionString: config.DATABASE_URL, poolSize: config.DATABASE_POOL_SIZE, applicationName: 'order-processor' })
  const connection = createBrokerConnection(config.AMQP_URL, 'order-processor', log)
  watchQueueDepths(connection)
  let consuming = false
  await app.register(orderProcessorApp, { connection, db, isConsuming: () => consuming })
  try {
    // Listen before consuming: a process that cannot serve its health port takes no work.
    await app.listen({ host: config.HOST, port: config.PORT })
  } catch (err) {
    await connection.close()
    await db.destroy()
    throw err
  }

  const orderService = new OrderServiceClient({
    gatewayUrl: config.GATEWAY_URL,
    tokens: new ServiceTokenClient({
      tokenUrl: config.TOKEN_URL,
      clientId: config.PROCESSOR_CLIENT_ID,
      clientSecret: config.PROCESSOR_CLIENT_SECRET,
      scope: SCOPES.orderStatusWrite
    })
  })
  // Aborted when the grace period of a shutdown is over: waits and HTTP calls in flight stop,
  // and their messages go back to the queue (nack with requeue) for the next process.
  const stopping = new AbortController()
  const rules: RuleSettings = {
    payments: new PaymentRepository(db),
    paymentLimit: config.PAYMENT_LIMIT,
    processingDelayMs: config.PROCESSING_DELAY_MS,
    wait: async ms => await sleep(ms, undefined, { signal: stopping.signal })
  }
  const failedMessages = createConfirmedPublisher(connection)
  const consumer = createOrderCreatedConsumer({
    connection,
    log,
    prefetch: config.PROCESSOR_PREFETCH,
    processEvent: async (event, message) => await processOrder(event.data.order, {
      ...rules,
      orders: orderService.forMessage(message.requestId, message.log, stopping.signal)
    }),
    publishConfirmed: failedMessages.publish,
    retryDelaysMs: config.RETRY_DELAYS_MS,
    quorumInitialGroupSize: config.QUORUM_INITIAL_GROUP_SIZE,
    stopping: stopping.signal,
    handBackPauseMs: options.handBackPauseMs
  })
  // The consumer declared its work queue and bindings; on each (re)connect the rest follows,
  // and only then is the processor ready (app.ts).
  consumer.on('ready', () => {
    declareProcessorTopology(connection, config.RETRY_DELAYS_MS, { quorumInitialGroupSize: config.QUORUM_INITIAL_GROUP_SIZE }).then(() => { consuming = true }, err => {
      log.error({ err }, 'could not declare the delay and dead-letter queues; the next reconnect tries again')
    })
  })

  let closing: Promise<void> | undefined
  async function closeInOrder (): Promise<void> {
    consuming = false
    const grace = options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS
    // consumer.close() cancels the subscription (prefetched messages not yet started go back
    // to the queue) and waits for the handlers in flight, so their acks go out.
    const consumerClosed = consumer.close()
    const timer = sleep(grace, 'late' as const, { ref: false })
    if (await Promise.race([consumerClosed.then(() => 'closed' as const), timer]) === 'late') {
      log.warn({ grace_ms: grace }, 'messages still in flight after the grace period; handing them back')
      stopping.abort()
      await consumerClosed
    }
    await failedMessages.close()
    unwatchQueueDepths(connection)
    await app.close()
    await connection.close()
    await db.destroy()
  }
  return {
    app,
    connection,
    consumer,
    db,
    async close () { await (closing ??= closeInOrder()) }
  }
}
