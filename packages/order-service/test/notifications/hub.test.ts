import t, { type Test } from 'tap'
import { randomUUID } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import WebSocket, { WebSocketServer } from 'ws'
import pino from 'pino'
import type { Order } from '@orders/contracts'
import { LIVE_STATUS_CLOSE_CODES } from '@orders/contracts'
import { OrderNotificationHub } from '../../src/notifications/hub.ts'

const log = pino({ level: 'silent' })

/** Real sockets: a ws server whose connection joins the hub as `userId`, and its client. */
async function socketPair (t: Test, hub: OrderNotificationHub, userId: string, clientOptions: WebSocket.ClientOptions = {}) {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await new Promise(resolve => server.once('listening', resolve))
  const joined = new Promise<void>(resolve => server.once('connection', socket => { hub.add(userId, socket); resolve() }))
  const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`, clientOptions)
  const messages: any[] = []
  client.on('message', m => messages.push(JSON.parse(String(m))))
  const closed = new Promise<number>(resolve => client.once('close', code => resolve(code)))
  await Promise.all([joined, new Promise(resolve => client.once('open', resolve))])
  t.teardown(async () => {
    client.terminate()
    await new Promise(resolve => server.close(resolve))
  })
  return { client, closed, messages }
}

function orderOf (userId: string, itemCount = 1): Order {
  const now = new Date().toISOString()
  return {
    id: randomUUID(), user_id: userId, status: 'processing', total: itemCount, currency: 'EUR', failure_reason: null, cancellable_until: now, created_at: now, updated_at: now,
    items: Array.from({ length: itemCount }, (_, i) => ({ sku: `SKU-${'x'.repeat(50)}-${i}`, quantity: 1, unit_price: 1 }))
  }
}

async function until (condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

t.test('a client that stops reading is closed instead of buffered without bound', async t => {
  const hub = new OrderNotificationHub({ log, maxBufferedBytes: 256 * 1024 })
  t.teardown(() => { hub.closeAll() })
  const user = randomUUID()
  const { client, closed } = await socketPair(t, hub, user)
  // Stop reading: the kernel's buffers fill, then the server's send queue grows.
  const raw = (client as unknown as { _socket: { pause: () => void, resume: () => void } })._socket
  raw.pause()
  const big = orderOf(user, 100) // about 7 KB per message
  let sent = 0
  while (hub.connectionCount > 0 && sent < 20_000) {
    hub.notifyStatusChanged(big)
    sent++
    if (sent % 50 === 0) await new Promise(resolve => setImmediate(resolve))
  }
  t.equal(hub.connectionCount, 0, `closed after ${sent} messages`)
  raw.resume()
  t.equal(await closed, LIVE_STATUS_CLOSE_CODES.slowConsumer)
})

t.test('a client that reads keeps its socket', async t => {
  const hub = new OrderNotificationHub({ log, maxBufferedBytes: 256 * 1024 })
  t.teardown(() => { hub.closeAll() })
  const user = randomUUID()
  const { messages } = await socketPair(t, hub, user)
  for (let i = 0; i < 500; i++) hub.notifyStatusChanged(orderOf(user))
  await until(() => messages.length === 500)
  t.equal(hub.connectionCount, 1)
})

t.test('heartbeats close a socket that stopped answering pings', async t => {
  const hub = new OrderNotificationHub({ log, heartbeatIntervalMs: 100 })
  t.teardown(() => { hub.closeAll() })
  const dead = await socketPair(t, hub, randomUUID(), { autoPong: false })
  const alive = await socketPair(t, hub, randomUUID())
  t.equal(await dead.closed, 1006, 'terminated without a close frame')
  await until(() => hub.connectionCount === 1)
  await new Promise(resolve => setTimeout(resolve, 350)) // three more heartbeats
  t.equal(hub.connectionCount, 1, 'the socket that answers stays')
  t.equal(alive.client.readyState, WebSocket.OPEN)
})

t.test('heartbeats are spread over the interval, not sent to every socket at once', async t => {
  const intervalMs = 500
  const hub = new OrderNotificationHub({ log, heartbeatIntervalMs: intervalMs })
  t.teardown(() => { hub.closeAll() })
  const pairs = await Promise.all(Array.from({ length: 20 }, async () => await socketPair(t, hub, randomUUID())))
  const firstPings = await Promise.all(pairs.map(async ({ client }) => await new Promise<number>(resolve => client.once('ping', () => resolve(Date.now())))))
  const spread = Math.max(...firstPings) - Math.min(...firstPings)
  t.ok(spread >= 0.6 * intervalMs, `the first pings of 20 sockets spread over ${spread} ms of a ${intervalMs} ms interval`)
})

t.test("messages go to the order's owner only", async t => {
  const hub = new OrderNotificationHub({ log })
  t.teardown(() => { hub.closeAll() })
  const alice = randomUUID()
  const bob = randomUUID()
  const a = await socketPair(t, hub, alice)
  const b = await socketPair(t, hub, bob)
  const aliceOrder = orderOf(alice)
  const bobOrder = orderOf(bob)
  hub.notifyStatusChanged(aliceOrder)
  hub.notifyStatusChanged(bobOrder)
  await until(() => a.messages.length === 1 && b.messages.length === 1)
  t.same(a.messages, [{ type: 'order.status_changed', order: aliceOrder }])
  t.same(b.messages, [{ type: 'order.status_changed', order: bobOrder }], "bob's socket got his order and nothing before it")
})
