import { randomUUID } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { Connection } from 'rabbitmq-client'
import WebSocket from 'ws'
import { createServiceInstance } from '@orders/platform'
import { createTestDatabase, resolveServiceUrls } from '@orders/test-support'
import orderServiceApp from '../src/app.ts'
import { OrderNotificationHub } from '../src/notifications/hub.ts'
import { buildUserService, decodeToken, register, TEST_ENCRYPTION_KEY } from '../../user-service/test/helper.ts'
import { rotateSigningKey } from '../../user-service/src/key-rotation.ts'

// A key rotation under a steady stream of requests, against the real services: two user-service
// replicas sharing one database (one of them serves the JWKS over HTTP) and an order-service
// that fetches it. Tokens signed before, during and after the rotation are sent to every
// verifier (/users/me on both replicas, the order-service's HTTP routes and its WebSocket) the
// whole time; none may be refused.

const PUBLISH_DELAY_SECONDS = 3
const client = { client_id: 'order-processor', client_secret: 'rotation-test-secret', scopes: ['orders:status' as const] }

t.test('a key rotation under load: both keys verify everywhere during the overlap, and no valid token is refused', async t => {
  const usersDatabase = await createTestDatabase()
  t.teardown(() => usersDatabase.drop())
  const replica = async () => await buildUserService(t, {
    database: usersDatabase,
    serviceClients: [client],
    keyMaintenanceEveryMs: 250,
    config: { SIGNING_KEY_PUBLISH_DELAY_SECONDS: PUBLISH_DELAY_SECONDS }
  })
  const a = await replica()
  const b = await replica()
  await a.app.listen({ host: '127.0.0.1', port: 0 })
  const userServiceUrl = `http://127.0.0.1:${(a.app.server.address() as AddressInfo).port}`

  const ordersDatabase = await createTestDatabase()
  const broker = new Connection((await resolveServiceUrls()).amqpUrl)
  const orders = createServiceInstance({ service: 'order-service-test', logLevel: process.env.TEST_LOG_LEVEL ?? 'silent' })
  const hub = new OrderNotificationHub({ log: orders.log })
  await orders.register(orderServiceApp, { db: ordersDatabase.as('order-service'), broker, userServiceUrl, onOutboxCommitted: () => {}, hub })
  await orders.listen({ host: '127.0.0.1', port: 0 })
  const ordersHost = `127.0.0.1:${(orders.server.address() as AddressInfo).port}`
  t.teardown(async () => { hub.closeAll(); await orders.close(); await broker.close(); await ordersDatabase.drop() })

  const ada = await register(a.app, `ada-${randomUUID()}@example.com`)
  const replicas = [a.app, b.app]
  let issued = 0
  const userToken = async () => {
    const res = await replicas[issued++ % 2]!.inject({ method: 'POST', url: '/login', payload: { email: ada.email, password: 'correct horse battery' } })
    if (res.statusCode !== 200) throw new Error(`login answered ${res.statusCode}`)
    return res.json().access_token as string
  }
  const serviceToken = async () => {
    const res = await replicas[issued++ % 2]!.inject({ method: 'POST', url: '/oauth/token', payload: { grant_type: 'client_credentials', client_id: client.client_id, client_secret: client.client_secret } })
    if (res.statusCode !== 200) throw new Error(`the token request answered ${res.statusCode}`)
    return res.json().access_token as string
  }

  const tokens: Array<{ token: string, user: boolean }> = [{ token: await userToken(), user: true }, { token: await serviceToken(), user: false }]
  const refused: string[] = []
  let requests = 0
  /** Every token so far, to every verifier: /users/me on both replicas, /orders on the order-service. */
  const verifyAll = async () => {
    await Promise.all(tokens.map(async ({ token, user }) => {
      const headers = { authorization: `Bearer ${token}` }
      const answers = await Promise.all([
        ...(user ? replicas.map(async app => await app.inject({ method: 'GET', url: '/users/me', headers })) : []),
        orders.inject({ method: 'GET', url: user ? '/orders' : `/orders/${randomUUID()}`, headers })
      ])
      requests += answers.length
      for (const answer of answers) {
        // A service token's unknown order is 404: the token itself was accepted.
        if (answer.statusCode !== (user ? 200 : 404)) refused.push(`${String(decodeToken(token).header.kid)}: ${answer.statusCode} ${answer.body}`)
      }
    }))
  }

  /** The WebSocket's handshake verifies the token too: one socket at a time, closed before the next. */
  const openSocket = async (token: string) => {
    requests++
    const socket = new WebSocket(`ws://${ordersHost}/orders/ws?access_token=${token}`)
    const status = await new Promise<number>(resolve => {
      socket.once('open', () => { resolve(101) })
      socket.once('unexpected-response', (_request, response) => { resolve(response.statusCode ?? 0) })
      socket.once('error', () => { resolve(0) })
    })
    socket.terminate()
    if (status !== 101) refused.push(`${String(decodeToken(token).header.kid)} (WebSocket): ${status}`)
  }
  const newestUserToken = () => tokens.filter(({ user }) => user).at(-1)!.token

  const oldKid = decodeToken(tokens[0]!.token).header.kid
  await verifyAll()
  const rotated = await rotateSigningKey(a.db, { encryptionKey: TEST_ENCRYPTION_KEY, publishDelayMs: PUBLISH_DELAY_SECONDS * 1000 })
  const jwks = await (await fetch(`${userServiceUrl}/.well-known/jwks.json`)).json() as { keys: Array<{ kid: string }> }
  t.same(jwks.keys.map(key => key.kid).sort(), [oldKid, rotated.kid].sort(), 'both keys are published during the overlap')

  // The stream: new tokens from both replicas and every token verified, until well after the new key took over.
  while (Date.now() < rotated.signsFrom.getTime() + 2_000) {
    tokens.push({ token: await serviceToken(), user: false })
    if (tokens.length % 4 === 0) tokens.push({ token: await userToken(), user: true })
    await verifyAll()
    await openSocket(newestUserToken())
  }
  tokens.push({ token: await userToken(), user: true }, { token: await userToken(), user: true })
  await verifyAll()
  for (const { token } of tokens.filter(({ user }) => user)) await openSocket(token)

  const kids = tokens.map(({ token }) => decodeToken(token).header.kid)
  t.ok(kids.includes(oldKid) && kids.includes(rotated.kid), 'tokens of both keys were in the stream')
  const issuedAt = tokens.map(({ token }) => ({ kid: decodeToken(token).header.kid, iat: Number(decodeToken(token).claims.iat) * 1000 }))
  t.same(issuedAt.filter(token => token.kid === rotated.kid && token.iat < rotated.signsFrom.getTime() - 1_000), [], 'nothing was signed with the new key before its publish delay had passed')
  t.same(kids.slice(-2), [rotated.kid, rotated.kid], 'both replicas sign with the new key after it')
  t.same(refused, [], `no valid token refused (${requests} requests, ${tokens.length} tokens)`)
})
