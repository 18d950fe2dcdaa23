import { randomUUID } from 'node:crypto'
import t from 'tap'
import { Connection } from 'rabbitmq-client'
import { EXCHANGES, PROCESSOR_DELIVERY_LIMIT, QUEUES, processorTopology } from '@orders/contracts'
import { createTestVhost } from '@orders/test-support'
import { runDeadLettersCli, type CliIo } from '../src/cli.ts'
import { DeadLetterQueue } from '../src/dead-letter-queue.ts'
import { orderCreated } from './fixtures.ts'

// `pnpm dlq` against a vhost of its own: the dead letters are published as the processor
// publishes them (and one is dead-lettered by the broker itself), then listed, replayed, purged.

const vhost = await createTestVhost()
const connection = new Connection({ url: vhost.url, connectionName: 'dlq-test' })
// Declares what the processor declares: the tool itself declares nothing.
const topology = processorTopology([1000])
const publisher = connection.createPublisher({
  confirm: true,
  exchanges: topology.exchanges.map(exchange => ({ ...exchange })),
  queues: topology.queues,
  queueBindings: topology.queueBindings
})
const queue = new DeadLetterQueue(connection)
t.teardown(async () => {
  await publisher.close()
  await connection.close()
  await vhost.drop()
})

function terminal (options: { interactive?: boolean, answer?: boolean } = {}) {
  const out: string[] = []
  const err: string[] = []
  const questions: string[] = []
  const io: CliIo = {
    out: line => { out.push(line) },
    err: line => { err.push(line) },
    interactive: options.interactive ?? false,
    confirm: async question => { questions.push(question); return options.answer ?? false }
  }
  return { io, out, err, questions }
}

async function cli (argv: string[], options?: { interactive?: boolean, answer?: boolean }) {
  const term = terminal(options)
  const code = await runDeadLettersCli(argv, vhost.url, term.io)
  return { code, ...term }
}

/** A dead letter as the processor publishes it. */
async function deadLetter (reason: string, retryAttempt: number) {
  const event = orderCreated()
  const order = event.data.order
  const messageId = randomUUID()
  await publisher.send({
    exchange: EXCHANGES.processorDeadLetter,
    routingKey: 'order_created',
    durable: true,
    messageId,
    headers: {
      'x-request-id': `req-${messageId}`,
      'x-retry-attempt': retryAttempt,
      'x-dead-letter-reason': reason,
      'x-dead-letter-detail': `${reason} detail`,
      'x-failed-at': '2026-11-25T10:00:00.000Z',
      'x-original-exchange': EXCHANGES.orderEvents,
      'x-original-routing-key': 'order_created'
    }
  }, event)
  return { messageId, orderId: order.id }
}

/** Takes everything from the work queue (nobody consumes it here). */
async function drainWorkQueue () {
  const channel = await connection.acquire()
  const messages = []
  try {
    for (let m = await channel.basicGet({ queue: QUEUES.orderProcessing, noAck: true }); m; m = await channel.basicGet({ queue: QUEUES.orderProcessing, noAck: true })) messages.push(m)
  } finally {
    await channel.close()
  }
  return messages
}

t.test('a vhost where the processor never ran has no dead letters, and the tool declares nothing there', async t => {
  const empty = await createTestVhost()
  t.teardown(empty.drop)
  const term = terminal()
  t.equal(await runDeadLettersCli(['list'], empty.url, term.io), 0)
  t.equal(term.out[1], `0 dead letters in ${QUEUES.orderProcessingDeadLetters}`)
  const observer = new Connection(empty.url)
  t.teardown(async () => { await observer.close() })
  await t.rejects(observer.queueDeclare({ queue: QUEUES.orderProcessingDeadLetters, passive: true }), { code: 'NOT_FOUND' })
})

t.test('list shows id, order, reason, retries and time, oldest first, and leaves every message where it was', async t => {
  const first = await deadLetter('retries_exhausted', 2)
  const second = await deadLetter('invalid_message', 0)
  const third = await deadLetter('order_not_found', 2)

  const listed = await cli(['list'])
  t.equal(listed.code, 0)
  const [header, ...rows] = listed.out[0]!.split('\n')
  t.match(header, /MESSAGE ID\s+ORDER ID\s+REASON\s+RETRIES\s+FAILED AT\s+DETAIL/)
  t.equal(rows.length, 3)
  t.match(rows[0], new RegExp(`^${first.messageId}\\s+${first.orderId}\\s+retries_exhausted\\s+2\\s+2026-11-25T10:00:00.000Z\\s+retries_exhausted detail`))
  t.match(rows[1], new RegExp(`^${second.messageId}\\s+${second.orderId}\\s+invalid_message\\s+0`))
  t.match(rows[2], new RegExp(`^${third.messageId}\\s+${third.orderId}\\s+order_not_found\\s+2`))
  t.equal(listed.out[1], `3 dead letters in ${QUEUES.orderProcessingDeadLetters}`)

  const again = await cli(['list', '--json'])
  t.same(again.out.map(line => (JSON.parse(line) as { messageId: string }).messageId), [first.messageId, second.messageId, third.messageId], 'same order the second time')
  t.equal(await queue.count(), 3, 'nothing lost')

  const limited = await cli(['list', '--limit', '1'])
  t.equal(limited.out[0]!.split('\n').length, 2)
  t.equal(limited.out[1], `3 dead letters in ${QUEUES.orderProcessingDeadLetters} (first 1 shown)`)
  t.equal(await queue.count(), 3)
})

t.test('replay of one id sends it to the work queue without its dead-letter headers; the others stay in order', async t => {
  const before = (await queue.list()).deadLetters.map(d => d.messageId)
  const chosen = before[1]!
  const replayed = await cli(['replay', chosen])
  t.equal(replayed.code, 0)
  t.match(replayed.out, [new RegExp(`^replayed ${chosen} \\(order `), `1 replayed to ${QUEUES.orderProcessing}`])

  const [message, ...more] = await drainWorkQueue()
  t.equal(more.length, 0)
  t.match(message, { messageId: chosen, exchange: EXCHANGES.processorWork, routingKey: 'order_created', durable: true, body: { type: 'order_created' } })
  t.match(message!.headers, { 'x-request-id': `req-${chosen}`, 'x-original-routing-key': 'order_created' })
  for (const header of ['x-dead-letter-reason', 'x-dead-letter-detail', 'x-failed-at', 'x-retry-attempt']) t.notOk(header in message!.headers!, `no ${header}`)
  t.same((await queue.list()).deadLetters.map(d => d.messageId), before.filter(id => id !== chosen))
})

t.test('replay of an id that is not there says so and changes nothing', async t => {
  const before = await queue.count()
  const replayed = await cli(['replay', 'no-such-message'])
  t.equal(replayed.code, 1)
  t.match(replayed.err, [/not in the dead-letter queue: no-such-message/])
  t.equal(await queue.count(), before)
  t.same(await drainWorkQueue(), [])
})

t.test('a message the broker dead-letters after the delivery limit is listed with its reason', async t => {
  const messageId = randomUUID()
  await publisher.send({ exchange: EXCHANGES.processorWork, routingKey: 'order_created', durable: true, messageId }, orderCreated())
  // A processor that dies with the message every time: each delivery ends without an ack.
  const channel = await connection.acquire()
  for (let delivery = 0; delivery <= PROCESSOR_DELIVERY_LIMIT; delivery++) {
    let message
    while (!(message = await channel.basicGet({ queue: QUEUES.orderProcessing }))) await new Promise(resolve => setTimeout(resolve, 10))
    channel.basicNack({ deliveryTag: message.deliveryTag, requeue: true })
  }
  await channel.close()
  let listed
  const deadline = Date.now() + 10_000
  while (!(listed = (await queue.list()).deadLetters.find(d => d.messageId === messageId)) && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 25))
  t.match(listed, { reason: 'delivery_limit', detail: /dead-lettered by the broker from order-processor.order_created.quorum/, failedAt: String })
})

t.test('replay --all sends every dead letter back to the work queue', async t => {
  const count = await queue.count()
  t.ok(count >= 2)
  const replayed = await cli(['replay', '--all'])
  t.equal(replayed.code, 0)
  t.equal(replayed.out.at(-1), `${count} replayed to ${QUEUES.orderProcessing}`)
  t.equal(await queue.count(), 0)
  t.equal((await drainWorkQueue()).length, count)
})

t.test('purge without --yes refuses when nobody can confirm (not a terminal)', async t => {
  await deadLetter('retries_exhausted', 2)
  await deadLetter('retries_exhausted', 2)
  const refused = await cli(['purge'])
  t.equal(refused.code, 2)
  t.match(refused.err, [/refusing to purge 2 dead letters without a confirmation: not a terminal \(pass --yes\)/])
  t.equal(await queue.count(), 2)
})

t.test('purge on a terminal asks first, and a "no" keeps everything', async t => {
  const declined = await cli(['purge'], { interactive: true, answer: false })
  t.equal(declined.code, 1)
  t.match(declined.questions, [/Drop 2 dead letters from order-processor.dead-letters for good\?/])
  t.equal(await queue.count(), 2)

  const confirmed = await cli(['purge'], { interactive: true, answer: true })
  t.equal(confirmed.code, 0)
  t.same(confirmed.out, ['purged 2 dead letters'])
  t.equal(await queue.count(), 0)
})

t.test('purge --yes drops them without asking', async t => {
  await deadLetter('invalid_message', 0)
  const purged = await cli(['purge', '--yes'])
  t.equal(purged.code, 0)
  t.same(purged.questions, [])
  t.same(purged.out, ['purged 1 dead letter'])
  t.equal(await queue.count(), 0)
  t.same((await cli(['purge'])).out, ['the dead-letter queue is empty; nothing to purge'])
})

t.test('bad usage prints the usage and exits 2', async t => {
  for (const argv of [[], ['list', 'extra'], ['replay'], ['replay', '--all', 'some-id'], ['purge', 'now'], ['list', '--limit', '0'], ['list', '--bogus']]) {
    const result = await cli(argv)
    t.equal(result.code, 2, argv.join(' ') || '(nothing)')
    t.match(result.err.join('\n'), /usage: pnpm dlq/)
  }
})
