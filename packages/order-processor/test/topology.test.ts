import t from 'tap'
import { Connection } from 'rabbitmq-client'
import { EXCHANGES, QUEUES, delayQueueName } from '@orders/contracts'
import { createEventPublisher } from '@orders/platform'
import { createTestDatabase, createTestVhost, rabbitmqctl } from '@orders/test-support'
import { loadProcessorConfig } from '../src/config.ts'
import { startOrderProcessor } from '../src/processor.ts'
import { TEST_CLIENT_SECRET } from './fake-order-service.ts'
import { startProcessorHarness, TEST_RETRY_DELAYS_MS } from './processor-harness.ts'

// Each service declares only what it owns: the order-service's publisher its exchange, the
// processor its queues. The processor is ready only once they exist, which is what the launcher
// waits for before it opens the gateway.

t.test('until it reaches RabbitMQ the processor is not ready, and says why', async t => {
  const database = await createTestDatabase()
  t.teardown(database.drop)
  const processor = await startOrderProcessor(loadProcessorConfig({
    AMQP_URL: 'amqp://guest:guest@127.0.0.1:1',
    DATABASE_URL: database.url,
    PROCESSOR_CLIENT_SECRET: TEST_CLIENT_SECRET,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'silent'
  }))
  t.teardown(processor.close)
  const ready = await processor.app.inject({ url: '/readyz' })
  t.equal(ready.statusCode, 503)
  t.match(ready.json(), { checks: { database: 'up', broker: /^down/, work_queue: 'down: not consuming the work queue yet' } })
})

t.test('once ready, the processor has declared its work queue, its bindings, the delay queues and the dead-letter queue', async t => {
  const harness = await startProcessorHarness(t)
  const observer = new Connection(harness.vhost.url)
  t.teardown(async () => { await observer.close() })
  for (const queue of [QUEUES.orderProcessing, QUEUES.orderProcessingDeadLetters, ...TEST_RETRY_DELAYS_MS.map(delayQueueName)]) {
    t.ok(await observer.queueDeclare({ queue, passive: true }), `${queue} exists`)
  }
  const bindings = await rabbitmqctl('list_bindings', '-p', harness.vhost.name, '--no-table-headers', 'source_name', 'destination_name', 'routing_key')
  t.match(bindings, `${EXCHANGES.orderEvents}\t${QUEUES.orderProcessing}\torder_created`)
  t.match(bindings, `${EXCHANGES.processorWork}\t${QUEUES.orderProcessing}\torder_created`)
  t.match(bindings, `${EXCHANGES.processorDeadLetter}\t${QUEUES.orderProcessingDeadLetters}\t`)
})

t.test("an event publisher (the outbox relays') declares its exchange and no queue", async t => {
  const vhost = await createTestVhost()
  t.teardown(vhost.drop)
  const connection = new Connection(vhost.url)
  const publisher = createEventPublisher(connection)
  t.teardown(async () => { await publisher.close(); await connection.close() })
  await publisher.send({ exchange: EXCHANGES.orderEvents, routingKey: 'order_created' }, { nobody: 'listens' })
  t.equal((await rabbitmqctl('list_queues', '-p', vhost.name, '--no-table-headers', 'name')).trim(), '')
  t.match(await rabbitmqctl('list_exchanges', '-p', vhost.name, '--no-table-headers', 'name'), EXCHANGES.orderEvents)
})

t.test('QUORUM_INITIAL_GROUP_SIZE=3 on a single-node broker: the quorum queues carry it, have the one node as replica, and a second processor redeclares them', async t => {
  const harness = await startProcessorHarness(t, { QUORUM_INITIAL_GROUP_SIZE: '3' })
  await harness.startAnotherProcessor()
  // rabbitmqctl lists a queue's arguments as [name, type, value] triples.
  const queues = JSON.parse(await rabbitmqctl('list_queues', '-p', harness.vhost.name, 'name', 'arguments', 'members', '--formatter', 'json')) as Array<{ name: string, arguments: Array<[string, string, unknown]>, members?: string[] }>
  for (const name of [QUEUES.orderProcessing, ...TEST_RETRY_DELAYS_MS.map(delayQueueName)]) {
    const queue = queues.find(q => q.name === name)
    t.equal(queue?.arguments.find(([key]) => key === 'x-quorum-initial-group-size')?.[2], 3, `${name} asks for three replicas`)
    t.equal(queue?.members?.length, 1, `${name} has the one node there is`)
  }
  t.notOk(harness.logs.some(line => /PRECONDITION_FAILED/.test(JSON.stringify(line))), 'no redeclaration was refused')
})
