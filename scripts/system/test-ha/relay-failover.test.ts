/**
 * The outbox relay against brokers that really refuse: NACKs the broker sends on its own (a
 * full `reject-publish` queue on the machine's RabbitMQ), and the loss of the node that leads
 * the quorum queue behind orders.events in the middle of a batch (a 3-node cluster of our
 * own). On a NACK or a confirm that does not come the relay must leave the batch pending and
 * publish it again on a new publisher (RabbitMQ 3.10 NACKs every later publish on a channel
 * that reconnected during a quorum queue's leader election: doc/ha.md). The same with
 * stand-in publishers: packages/outbox/test/relay-publisher-failures.test.ts.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pino from 'pino'
import { Connection, type Publisher } from 'rabbitmq-client'
import t from 'tap'
import { EVENT_EXCHANGES } from '@orders/contracts'
import { appendToOutbox, OutboxRelay } from '@orders/outbox'
import { brokerAddresses, createEventPublisher } from '@orders/platform'
import { createTestDatabase, createTestVhost, type TestDatabase } from '@orders/test-support'
import { startRabbitMqCluster, type RabbitMqCluster } from '../src/ha/index.ts'
import { findFreePorts, pollUntil } from '../src/ha/waiting.ts'

const SCHEMA = 'orders'
const EXCHANGE = EVENT_EXCHANGES.orderEvents
const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' })

/** Appends `count` rows to the outbox in one transaction; returns their ids. */
async function append (database: TestDatabase, count: number): Promise<string[]> {
  return await database.db.transaction().execute(async trx => {
    const ids: string[] = []
    for (let i = 0; i < count; i++) ids.push(await appendToOutbox(trx, SCHEMA, { exchange: EXCHANGE.exchange, routingKey: 'order_created', payload: { i } }))
    return ids
  })
}

async function pendingIds (database: TestDatabase): Promise<string[]> {
  const rows = await database.db.withSchema(SCHEMA).selectFrom('outbox').select('id').where('published_at', 'is', null).execute()
  return rows.map(row => row.id as string).sort()
}

/** Takes every message out of `queue`; returns their message ids (a duplicate appears twice). */
async function drain (connection: Connection, queue: string): Promise<string[]> {
  const ids: string[] = []
  for (;;) {
    const message = await connection.basicGet({ queue, noAck: true })
    if (message === undefined) return ids
    ids.push(message.messageId ?? '(no message id)')
  }
}

/** A relay whose publisher factory keeps every publisher it made, real ones on `connection`. */
function countingRelay (database: TestDatabase, connection: Connection, options: { confirmTimeoutMs?: number, wrap?: (publisher: Publisher) => Publisher } = {}) {
  const publishers: Publisher[] = []
  const relay = new OutboxRelay({
    db: database.db,
    schema: SCHEMA,
    log,
    pollIntervalMs: 100,
    confirmTimeoutMs: options.confirmTimeoutMs,
    publisher: () => {
      const publisher = createEventPublisher(connection)
      publishers.push(publisher)
      return options.wrap?.(publisher) ?? publisher
    }
  })
  return { relay, publishers }
}

t.test('on the machine\'s broker: NACKed rows stay pending, each NACK brings a new publisher, and every row goes out once the queue has room', async t => {
  const CAPACITY = 5
  const QUEUE = 'relay-test.capped'
  const database = await createTestDatabase()
  const vhost = await createTestVhost()
  const connection = new Connection(vhost.url)
  t.teardown(async () => {
    await connection.close()
    await vhost.drop()
    await database.drop()
  })
  // RabbitMQ answers a publish to a full reject-publish queue with basic.nack.
  await connection.exchangeDeclare({ ...EXCHANGE })
  await connection.queueDeclare({ queue: QUEUE, durable: true, arguments: { 'x-max-length': CAPACITY, 'x-overflow': 'reject-publish' } })
  await connection.queueBind({ queue: QUEUE, exchange: EXCHANGE.exchange, routingKey: '#' })
  const filler = connection.createPublisher({ confirm: true })
  for (let i = 0; i < CAPACITY - 2; i++) await filler.send({ routingKey: QUEUE }, 'filler')
  await filler.close()

  const ids = (await append(database, 4)).sort()
  const { relay, publishers } = countingRelay(database, connection)

  await t.rejects(relay.publishPending(), { code: 'NACK' }, 'two of the four fit; the broker NACKs the other two')
  t.same(await pendingIds(database), ids, 'the whole batch is pending, the two confirmed rows too (published again later)')
  t.equal(publishers.length, 2, 'the NACKing publisher was replaced')

  await t.rejects(relay.publishPending(), { code: 'NACK' }, 'the queue is full: every row NACKed')
  t.same(await pendingIds(database), ids)
  t.equal(publishers.length, 3, 'replaced again')

  await connection.queuePurge({ queue: QUEUE })
  relay.start()
  await pollUntil('every row published', async () => (await pendingIds(database)).length === 0 ? true : undefined, { timeoutMs: 10_000, intervalMs: 50 })
  await relay.stop()
  t.same((await drain(connection, QUEUE)).sort(), ids, 'once there is room, each row reaches the queue once')
  t.equal(publishers.length, 3, 'a publisher whose messages are confirmed is kept')
})

t.test('on a 3-node cluster: the node leading the queue dies mid-batch, and every row is published and reaches the queue', async t => {
  const QUEUE = 'relay-test.orders'
  const ROWS_BEFORE_KILL = 150
  const baseDir = await mkdtemp(path.join(tmpdir(), 'ha-relay-'))
  const ports = await findFreePorts(6)
  const output: string[] = []
  let cluster: RabbitMqCluster | undefined
  const connections: Connection[] = []
  const database = await createTestDatabase()
  t.teardown(async () => {
    await Promise.allSettled(connections.map(async connection => { await connection.close() }))
    await cluster?.stop()
    await rm(baseDir, { recursive: true, force: true })
    await database.drop()
  })
  t.afterEach(async t => { if (t.passing() === false) t.comment(output.slice(-40).join('\n')) })
  const connect = (url: string): Connection => {
    const connection = new Connection({ ...brokerAddresses(url), retryLow: 100, retryHigh: 1_000 })
    connection.on('error', () => {}) // a killed node resets it; it reconnects to another
    connections.push(connection)
    return connection
  }

  cluster = await startRabbitMqCluster({
    baseDir,
    ports: ports.slice(0, 3),
    distPorts: ports.slice(3),
    nodeNamePrefix: `relaytest${process.pid}-r`,
    onLog: (source, line) => { output.push(`${source} | ${line}`) }
  })
  const declaring = connect(cluster.amqpUrls[0]!)
  await declaring.exchangeDeclare({ ...EXCHANGE })
  await declaring.queueDeclare({ queue: QUEUE, durable: true, arguments: { 'x-queue-type': 'quorum', 'x-quorum-initial-group-size': 3 } })
  await declaring.queueBind({ queue: QUEUE, exchange: EXCHANGE.exchange, routingKey: '#' })
  const victim = await cluster.leaderOf(QUEUE)
  const survivor = cluster.nodes.find(node => node !== victim)!
  // AMQP_URL as the services take it, the leader first: the relay's channel and the queue's
  // leader go down together, the case of the broker bug.
  const amqpUrl = [victim, ...cluster.nodes.filter(node => node !== victim)].map(node => node.amqpUrl).join(',')

  // Each send is seen before it goes out: the kill is sent between two sends of one batch, so
  // it always falls with confirms outstanding.
  let sends = 0
  let killedAt: number | undefined
  let killed: Promise<void> | undefined
  const failures = new Map<string, number>()
  const { relay, publishers } = countingRelay(database, connect(amqpUrl), {
    confirmTimeoutMs: 2_000,
    wrap: publisher => ({
      send: async (...args: Parameters<Publisher['send']>) => {
        if (++sends === ROWS_BEFORE_KILL) { killedAt = Date.now(); killed = victim.kill('SIGKILL') }
        await publisher.send(...args).catch((err: { code?: string }) => {
          failures.set(err.code ?? 'other', (failures.get(err.code ?? 'other') ?? 0) + 1)
          throw err
        })
      },
      close: async () => { await publisher.close() }
    }) as unknown as Publisher
  })
  relay.start()

  // Steady writes, waking the relay after each commit as the services do, until a row written
  // after the queue elected its new leader has been published: the relay published before,
  // during and after the election.
  const ids: string[] = []
  let elected: Promise<string> | undefined
  let electedAt: number | undefined
  let firstAfterElection: string | undefined
  const writeUntil = Date.now() + 90_000
  while (Date.now() < writeUntil) {
    const batch = await append(database, 5)
    ids.push(...batch)
    relay.wake()
    if (killed !== undefined && elected === undefined) {
      elected = pollUntil(`a new leader of ${QUEUE}`, async () => {
        const { leader } = await cluster!.quorumQueueStatus(QUEUE)
        return leader !== victim.name && leader !== '' ? leader : undefined
      }, { timeoutMs: 60_000, intervalMs: 100 })
      elected.then(() => { electedAt = Date.now() }, () => {})
    }
    if (electedAt !== undefined) firstAfterElection ??= batch[0]
    if (firstAfterElection !== undefined && !(await pendingIds(database)).includes(firstAfterElection)) break
    await new Promise(resolve => setTimeout(resolve, 20)) // the writers' pace, not a wait for an event
  }
  await killed
  const newLeader = await elected
  t.ok(killedAt !== undefined && newLeader !== undefined, `${victim.name} was killed mid-batch; ${newLeader} leads the queue now`)
  await pollUntil('every outbox row published', async () => (await pendingIds(database)).length === 0 ? true : undefined, { timeoutMs: 60_000, intervalMs: 100 })
  const drainedAt = Date.now()
  await relay.stop()

  const delivered = await drain(connect(survivor.amqpUrl), QUEUE)
  const unique = new Set(delivered)
  const lost = ids.filter(id => !unique.has(id))
  t.equal(lost.length, 0, `every one of ${ids.length} events reached the queue (${lost.length} lost)`)
  t.comment(`${ids.length} rows, ${delivered.length} messages (${delivered.length - unique.size} duplicates); new leader seen ${((electedAt! - killedAt!) / 1000).toFixed(1)} s and every row published ${((drainedAt - killedAt!) / 1000).toFixed(1)} s after the kill`)
  t.comment(`publisher replaced ${publishers.length - 1} time(s); failed sends: ${failures.size === 0 ? 'none' : [...failures].map(([code, count]) => `${count} ${code}`).join(', ')}`)
})
