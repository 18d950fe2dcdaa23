import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { pino } from 'pino'
import { Connection } from 'rabbitmq-client'
import { EXCHANGES, QUEUES, ROUTING_KEYS, type OrderCreatedV1 } from '@orders/contracts'
import { createEventPublisher } from '@orders/platform'
import { createTestDatabase, createTestVhost, rabbitmqctl, type TestDatabase, type TestVhost } from '@orders/test-support'
import { loadProcessorConfig } from '../src/config.ts'
import { DeadLetterQueue } from '@orders/dlq/dead-letter-queue'
import { startOrderProcessor, type OrderProcessor, type OrderProcessorOptions } from '../src/processor.ts'
import { FakeOrderService, TEST_CLIENT_SECRET } from './fake-order-service.ts'

export interface LogLine { level: number, msg: string, order_id?: string | null, request_id?: string, [key: string]: unknown }

export interface ProcessorHarness {
  processor: OrderProcessor
  orderService: FakeOrderService
  vhost: TestVhost
  database: TestDatabase
  /** A connection of the test's own, e.g. for a DeadLetterQueue. */
  connection: Connection
  deadLetters: DeadLetterQueue
  logs: LogLine[]
  /** Another processor on the same vhost, database and order-service; closed at teardown. */
  startAnotherProcessor: (env?: Record<string, string>, options?: OrderProcessorOptions) => Promise<OrderProcessor>
  /** Publishes like the outbox relay: persistent, confirmed, messageId, x-request-id header and correlationId. */
  publish: (event: OrderCreatedV1, options?: { messageId?: string, requestId?: string | null }) => Promise<{ messageId: string }>
  publishRaw: (body: string, contentType: string) => Promise<{ messageId: string }>
  /**
   * Messages in a queue (the work queue unless named), ready and unacknowledged, as rabbitmqctl
   * reports them: a quorum queue's figures can lag a few seconds, so poll them with waitFor.
   */
  queueDepth: (queue?: string) => Promise<number>
  /** Messages ready for delivery in a queue (the work queue unless named), exact, from the broker itself. */
  readyMessages: (queue?: string) => Promise<number>
  /** The rows of processor.payments for one order. */
  paymentsFor: (orderId: string) => Promise<Array<{ order_id: string, amount: number, status: string }>>
  waitFor: (what: string, check: () => boolean | Promise<boolean>, timeoutMs?: number) => Promise<void>
}

async function isReady (processor: OrderProcessor): Promise<boolean> {
  return (await processor.app.inject({ url: '/readyz' })).statusCode === 200
}

/** Short delays, so a retry path is walked in well under a second. */
export const TEST_RETRY_DELAYS_MS = [200, 400]

/**
 * The processor as it runs in production, on a vhost and a database of its own, calling a fake
 * order-service; plus a publisher on a separate connection. Everything is closed and dropped
 * in `t.teardown`.
 */
export async function startProcessorHarness (
  t: { teardown: (fn: () => unknown) => void },
  env: Record<string, string> = {},
  processorOptions: OrderProcessorOptions = {}
): Promise<ProcessorHarness> {
  const vhost = await createTestVhost()
  const database = await createTestDatabase()
  const orderService = await FakeOrderService.start()
  const logs: LogLine[] = []
  const log = pino({ level: 'debug' }, { write (line: string) { logs.push(JSON.parse(line) as LogLine) } })
  const processors: OrderProcessor[] = []
  async function startProcessor (overrides: Record<string, string> = {}, extraOptions: OrderProcessorOptions = {}): Promise<OrderProcessor> {
    const config = loadProcessorConfig({
      AMQP_URL: vhost.url,
      // Its own role, as in production; the broker as guest (the permissions have tests of their own).
      DATABASE_URL: database.serviceUrls['order-processor'],
      DATABASE_POOL_SIZE: '4',
      GATEWAY_URL: orderService.url,
      PROCESSOR_CLIENT_SECRET: TEST_CLIENT_SECRET,
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'silent',
      PAYMENT_LIMIT: '50000',
      RETRY_DELAYS_MS: TEST_RETRY_DELAYS_MS.join(','),
      ...env,
      ...overrides
    })
    const processor = await startOrderProcessor(config, { log, handBackPauseMs: 20, ...processorOptions, ...extraOptions })
    processors.push(processor)
    return processor
  }

  const processor = await startProcessor()
  const connection = new Connection({ url: vhost.url, connectionName: 'order-processor-test' })
  // As the order-service's relays publish: declaring orders.events and nothing else.
  const publisher = createEventPublisher(connection)

  t.teardown(async () => {
    for (const each of processors) await each.close()
    await publisher.close()
    await connection.close()
    await orderService.close()
    await vhost.drop()
    await database.drop()
  })

  async function waitFor (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`)
      await sleep(25)
    }
  }

  async function startAnotherProcessor (overrides: Record<string, string> = {}, extraOptions: OrderProcessorOptions = {}): Promise<OrderProcessor> {
    const another = await startProcessor(overrides, extraOptions)
    await waitFor('the other processor to be ready', async () => await isReady(another))
    return another
  }

  // Ready (its queues declared) before the first publish, as the launcher waits for /readyz
  // before it opens the gateway: an event published earlier would have no queue to go to.
  await waitFor('the processor to be ready', async () => await isReady(processor))

  return {
    processor,
    orderService,
    vhost,
    database,
    connection,
    deadLetters: new DeadLetterQueue(connection),
    logs,
    waitFor,
    startAnotherProcessor,
    async publish (event, options = {}) {
      const messageId = options.messageId ?? randomUUID()
      const requestId = options.requestId === undefined ? `req-${randomUUID()}` : options.requestId
      await publisher.send({
        exchange: EXCHANGES.orderEvents,
        routingKey: ROUTING_KEYS.orderCreated,
        durable: true,
        messageId,
        ...(requestId === null ? {} : { correlationId: requestId, headers: { 'x-request-id': requestId } })
      }, event)
      return { messageId }
    },
    async publishRaw (body, contentType) {
      const messageId = randomUUID()
      await publisher.send({
        exchange: EXCHANGES.orderEvents,
        routingKey: ROUTING_KEYS.orderCreated,
        durable: true,
        messageId,
        contentType
      }, Buffer.from(body))
      return { messageId }
    },
    async queueDepth (queue = QUEUES.orderProcessing) {
      const out = await rabbitmqctl('list_queues', '-p', vhost.name, '--no-table-headers', 'name', 'messages')
      const line = out.split('\n').find(l => l.startsWith(`${queue}\t`))
      return Number(line?.split('\t')[1] ?? 0)
    },
    async readyMessages (queue = QUEUES.orderProcessing) {
      return (await connection.queueDeclare({ queue, passive: true })).messageCount
    },
    async paymentsFor (orderId) {
      return await database.db.withSchema('processor').selectFrom('payments')
        .select(['order_id', 'amount', 'status'])
        .where('order_id', '=', orderId)
        .execute()
    }
  }
}
