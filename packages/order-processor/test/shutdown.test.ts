import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { anOrder, orderCreated } from './fixtures.ts'
import { TEST_CLIENT_SECRET } from './fake-order-service.ts'
import { startProcessorHarness } from './processor-harness.ts'

// Graceful shutdown: nothing lost (every order ends final), nothing done twice (one payment each).

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url))

t.test('closing lets the orders in flight finish; the others wait in the queue for the next processor', async t => {
  const harness = await startProcessorHarness(t, { PROCESSING_DELAY_MS: '300', PROCESSOR_PREFETCH: '2' })
  const { orderService, processor } = harness
  const orders = Array.from({ length: 6 }, () => orderService.add(anOrder(100)))
  for (const order of orders) await harness.publish(orderCreated(order))
  await harness.waitFor('two orders to be in processing', () => orders.filter(o => orderService.orders.get(o.id)?.status === 'processing').length === 2)

  await processor.close()

  const completed = orders.filter(o => orderService.orders.get(o.id)?.status === 'completed')
  t.equal(completed.length, 2, 'the two in flight finished')
  t.equal(processor.consumer.stats.acknowledged, 2)
  t.equal(orders.filter(o => orderService.orders.get(o.id)?.status === 'new').length, 4, 'nothing else was started')
  t.equal(await harness.readyMessages(), 4, 'the rest wait in the queue')

  await harness.startAnotherProcessor({ PROCESSING_DELAY_MS: '0' })
  for (const order of orders) t.match(await orderService.finalized(order.id), { status: 'completed' })
  for (const order of orders) t.equal((await harness.paymentsFor(order.id)).length, 1, `one payment for ${order.id}`)
  await harness.waitFor('the queue to drain', async () => await harness.queueDepth() === 0)
})

t.test('work that outlasts the grace period is handed back and finished once by the next processor', async t => {
  const harness = await startProcessorHarness(t, { PROCESSING_DELAY_MS: '60000' }, { shutdownGraceMs: 200 })
  const { orderService, processor, logs } = harness
  const order = orderService.add(anOrder(100))
  const { messageId } = await harness.publish(orderCreated(order))
  await harness.waitFor('the order to be in processing', () => orderService.orders.get(order.id)?.status === 'processing')

  const closing = Date.now()
  await processor.close()
  t.ok(Date.now() - closing < 5_000, 'close did not wait for the payment provider')
  t.ok(logs.some(l => l.msg === 'messages still in flight after the grace period; handing them back'))
  t.ok(logs.some(l => l.order_id === order.id && l.msg === 'processor stopping; message handed back to the work queue'))
  t.equal(processor.consumer.stats.requeued, 1, 'nacked with requeue')
  await harness.waitFor('the message to be back in the queue', async () => await harness.readyMessages() === 1)
  t.same(await harness.paymentsFor(order.id), [], 'not charged by the stopped processor')

  await harness.startAnotherProcessor({ PROCESSING_DELAY_MS: '0' })
  t.match(await orderService.finalized(order.id), { status: 'completed' })
  t.equal((await harness.paymentsFor(order.id)).length, 1)
  t.ok(logs.some(l => l.message_id === messageId && l.msg === 'order completed' && l.resumed === true && l.delivery_count === 1),
    'the next delivery resumed the order; the quorum queue counted the hand-back')
  await harness.waitFor('the queue to drain', async () => await harness.queueDepth() === 0)
})

t.test('SIGTERM to the processor process during processing: the order finishes, the process exits 0', async t => {
  const harness = await startProcessorHarness(t)
  const { orderService } = harness
  await harness.processor.close() // the process below does the work
  const order = orderService.add(anOrder(100))
  await harness.publish(orderCreated(order))

  const child = spawn(process.execPath, ['--import', 'tsx', 'packages/order-processor/src/server.ts'], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH,
      AMQP_URL: harness.vhost.url,
      DATABASE_URL: harness.database.url,
      GATEWAY_URL: orderService.url,
      PROCESSOR_CLIENT_SECRET: TEST_CLIENT_SECRET,
      PORT: '0',
      PROCESSING_DELAY_MS: '500',
      LOG_LEVEL: 'info'
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const output: string[] = []
  child.stdout.on('data', chunk => { output.push(String(chunk)) })
  child.stderr.on('data', chunk => { output.push(String(chunk)) })
  const exited = once(child, 'exit')
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })

  await harness.waitFor('the order to be in processing', () => orderService.orders.get(order.id)?.status === 'processing', 30_000)
  child.kill('SIGTERM')
  const [code, signal] = await exited
  t.equal(code, 0, 'exited cleanly', { signal, output: output.join('') })
  const log = output.join('')
  const signalled = log.indexOf('"msg":"shutting down"')
  t.ok(signalled >= 0 && signalled < log.indexOf('"msg":"order completed"'), 'the order finished after the signal')
  t.equal(orderService.orders.get(order.id)?.status, 'completed', 'the order in flight finished')
  t.equal((await harness.paymentsFor(order.id)).length, 1)
  t.equal(await harness.readyMessages(), 0, 'acknowledged before the process exited')
})
