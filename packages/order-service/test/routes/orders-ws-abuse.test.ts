import t, { type Test } from 'tap'
import { randomUUID } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import WebSocket from 'ws'
import pino from 'pino'
import { Connection } from 'rabbitmq-client'
import { createServiceInstance } from '@orders/platform'
import { createTestDatabase, createTestRedis, resolveServiceUrls, startTcpProxy, startTestTokenIssuer, type TestRedis, type TestTokenIssuer } from '@orders/test-support'
import orderServiceApp from '../../src/app.ts'
import { OrderNotificationHub } from '../../src/notifications/hub.ts'
import { SocketLeases } from '../../src/notifications/socket-leases.ts'

const log = pino({ level: 'silent' })

/** One replica, listening, with the given Redis and cap. */
async function startReplica (t: Test, issuer: TestTokenIssuer, redis: TestRedis, maxSocketsPerUser: number) {
  const database = await createTestDatabase()
  const broker = new Connection((await resolveServiceUrls()).amqpUrl)
  const hub = new OrderNotificationHub({ log })
  const app = createServiceInstance({ service: 'ws-abuse-test', logLevel: 'silent' })
  await app.register(orderServiceApp, {
    db: database.db, broker, userServiceUrl: issuer.url, onOutboxCommitted: () => {}, hub, redis: redis.client,
    webSocket: { allowedOrigins: ['https://shop.example'], maxSocketsPerUser }
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(async () => { hub.closeAll(); await app.close(); await broker.close(); await database.drop() })
  return `127.0.0.1:${(app.server.address() as AddressInfo).port}`
}

/** 101 when the socket opens (it is closed at the test's end), otherwise the HTTP status. */
async function open (t: Test, host: string, token: string, headers: Record<string, string> = {}): Promise<{ status: number, socket?: WebSocket }> {
  const socket = new WebSocket(`ws://${host}/orders/ws?access_token=${token}`, { headers })
  return await new Promise(resolve => {
    socket.once('open', () => { t.teardown(() => { socket.terminate() }); resolve({ status: 101, socket }) })
    socket.once('unexpected-response', (_request, response) => { resolve({ status: response.statusCode ?? 0 }) })
    socket.once('error', () => { resolve({ status: 0 }) })
  })
}

t.test('the live status socket', async t => {
  const issuer = await startTestTokenIssuer()
  const redis = await createTestRedis()
  t.teardown(async () => { await redis.drop(); await issuer.close() })
  const one = await startReplica(t, issuer, redis, 3)
  const two = await startReplica(t, issuer, redis, 3)

  t.test('only the gateway\'s own origin and the allowed ones may open it', async t => {
    const token = issuer.userToken()
    t.equal((await open(t, one, token, { origin: 'https://evil.example' })).status, 403)
    t.equal((await open(t, one, token, { origin: 'null' })).status, 403)
    t.equal((await open(t, one, token, { origin: `http://${one}` })).status, 101, 'the origin of the host it was asked on')
    t.equal((await open(t, one, token, { origin: 'https://shop.example' })).status, 101, 'an allowed origin')
    t.equal((await open(t, one, token)).status, 101, 'no Origin: not a browser')
  })

  t.test('one user holds at most the cap of sockets across replicas; closing one frees a place', async t => {
    const user = randomUUID()
    const token = issuer.userToken(user)
    const first = await open(t, one, token)
    const statuses = [first.status, (await open(t, two, token)).status, (await open(t, one, token)).status]
    t.same(statuses, [101, 101, 101])
    t.equal((await open(t, two, token)).status, 429, 'the fourth, on the other replica, is refused')
    t.equal((await open(t, one, issuer.userToken())).status, 101, 'another user is not affected')
    await new Promise(resolve => { first.socket!.once('close', resolve); first.socket!.close() })
    // The release reaches Redis right after the close; poll briefly for it.
    let status = 0
    for (let i = 0; i < 50 && status !== 101; i++) {
      status = (await open(t, two, token)).status
      if (status !== 101) await new Promise(resolve => setTimeout(resolve, 20))
    }
    t.equal(status, 101)
  })
})

t.test('leases of a replica that stopped renewing them (crashed) run out', async t => {
  const redis = await createTestRedis()
  t.teardown(async () => { await redis.drop() })
  await new Promise(resolve => { if (redis.client.status === 'ready') resolve(null); else redis.client.once('ready', resolve) })
  const crashed = new SocketLeases({ redis: redis.client, maxPerUser: 2, leaseMs: 300, log })
  const survivor = new SocketLeases({ redis: redis.client, maxPerUser: 2, leaseMs: 300, log })
  t.teardown(() => { survivor.stop() })
  const user = randomUUID()
  t.ok(await crashed.acquire(user))
  t.ok(await crashed.acquire(user))
  crashed.stop() // no more renewals, no releases: as if the process died
  t.equal(await survivor.acquire(user), undefined, 'at the cap while the leases are fresh')
  await new Promise(resolve => setTimeout(resolve, 400))
  t.ok(await survivor.acquire(user), 'free again once they ran out')
  const held = await survivor.acquire(user)
  t.ok(held)
  await new Promise(resolve => setTimeout(resolve, 400))
  t.equal(await crashed.acquire(user), undefined, 'a live replica renews its leases, so they keep counting')
})

t.test('while Redis is unreachable, each replica caps its own sockets', async t => {
  const proxy = await startTcpProxy({ port: 6379 })
  const redis = await createTestRedis({ url: `redis://127.0.0.1:${proxy.port}` })
  t.teardown(async () => { await redis.drop(); await proxy.close() })
  const leases = new SocketLeases({ redis: redis.client, maxPerUser: 2, log })
  t.teardown(() => { leases.stop() })
  proxy.cut()
  const user = randomUUID()
  const started = Date.now()
  const granted = [await leases.acquire(user), await leases.acquire(user), await leases.acquire(user)]
  t.same(granted.map(g => g !== undefined), [true, true, false])
  t.ok(Date.now() - started < 3_000, 'answered without waiting for Redis')
})
