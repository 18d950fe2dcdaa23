import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { pino } from 'pino'
import { Connection } from 'rabbitmq-client'
import { EXCHANGES, QUEUES, ROUTING_KEYS, type OrderCreatedV1 } from '@orders/contracts'
import { createEventPublisher } from '@orders/platform'
import { createTestVhost, rabbitmqctl } from '@orders/test-support'
import { loadProcessorConfig } from '../src/config.ts'
import { startOrderProcessor, type OrderProcessor } from '../src/processor.ts'
import { FakeOrderService, TEST_CLIENT_SECRET } from './fake-order-service.ts'

export interface LogLine { level: number, msg: string, order_id?: string | null, request_id?: string, [key: string]: unknown }

export interface ProcessorHarness {
  processor: OrderProcessor
  orderService: FakeOrderService
  logs: LogLine[]
  /** Publishes like the outbox relay: persistent, confirmed, messageId, x-request-id header and correlationId. */
  publish: (event: OrderCreatedV1, options?: { messageId?: string, requestId?: string | null }) => Promise<{ messageId: string }>
  publishRaw: (body: string, contentType: string) => Promise<void>
  /** Messages in the processor's queue, ready and unacknowledged. */
  queueDepth: () => Promise<number>
  waitFor: (what: string, check: () => boolean | Promise<boolean>, timeoutMs?: number) => Promise<void>
}

/**
 * The processor as it runs in production, on a vhost of its own, calling a fake order-service;
 * plus a publisher on a separate connection. Everything is closed and dropped in `t.teardown`.
 */
export async function startProcessorHarness (
  t: { teardown: (fn: () => unknown) => void },
  env: Record<string, string> = {}
): Promise<ProcessorHarness> {
  const vhost = await createTestVhost()
  const orderService = await FakeOrderService.start()
  const logs: LogLine[] = []
  const log = pino({ level: 'debug' }, { write (line: string) { logs.push(JSON.parse(line) as LogLine) } })
  const config = loadProcessorConfig({
    AMQP_URL: vhost.url,
    GATEWAY_URL: orderService.url,
    PROCESSOR_CLIENT_SECRET: TEST_CLIENT_SECRET,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'silent',
    PAYMENT_LIMIT: '50000',
    ...env
  })
  const processor = await startOrderProcessor(config, { log, retryBackoffMs: { min: 20, max: 50 } })
  const connection = new Connection({ url: vhost.url, connectionName: 'order-processor-test' })
  const publisher = createEventPublisher(connection)

  t.teardown(async () => {
    await processor.close()
    await publisher.close()
    await connection.close()
    await orderService.close()
    await vhost.drop()
  })

  async function waitFor (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`)
      await sleep(25)
    }
  }

  // Consuming before the first publish, so the test measures processing, not start-up.
  await waitFor('the consumer to be ready', () => processor.consumer.consumerTag !== '')

  return {
    processor,
    orderService,
    logs,
    waitFor,
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
      await publisher.send({
        exchange: EXCHANGES.orderEvents,
        routingKey: ROUTING_KEYS.orderCreated,
        durable: true,
        messageId: randomUUID(),
        contentType
      }, Buffer.from(body))
    },
    async queueDepth () {
      const out = await rabbitmqctl('list_queues', '-p', vhost.name, '--no-table-headers', 'name', 'messages')
      const line = out.split('\n').find(l => l.startsWith(`${QUEUES.orderProcessing}\t`))
      return Number(line?.split('\t')[1] ?? 0)
    }
  }
}
