import { createServer } from 'node:http'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { pino } from 'pino'
import { SCOPES } from '@orders/contracts'
import { ServiceTokenClient } from '@orders/platform'
import { OrderServiceClient, TransientOrderServiceError, UnexpectedOrderServiceAnswerError } from '../src/order-service-client.ts'
import { FakeOrderService, TEST_CLIENT_ID, TEST_CLIENT_SECRET } from './fake-order-service.ts'
import { anOrder } from './fixtures.ts'

const log = pino({ level: 'silent' })

async function setup (t: { teardown: (fn: () => unknown) => void }) {
  const orderService = await FakeOrderService.start()
  t.teardown(async () => { await orderService.close() })
  const tokens = new ServiceTokenClient({
    tokenUrl: `${orderService.url}/oauth/token`, clientId: TEST_CLIENT_ID, clientSecret: TEST_CLIENT_SECRET, scope: SCOPES.orderStatusWrite
  })
  const client = new OrderServiceClient({ gatewayUrl: orderService.url, tokens })
  return { orderService, client, orders: client.forMessage('req-1', log) }
}

t.test('a status change carries the service token, the request id and a JSON body', async t => {
  const { orderService, orders } = await setup(t)
  const order = orderService.add(anOrder(10))
  t.match(await orders.patchStatus(order.id, { status: 'processing' }), { outcome: 'ok', order: { id: order.id, status: 'processing' } })
  t.match(orderService.calls, [{
    method: 'PATCH', answered: 200, authorization: 'Bearer token-1', requestId: 'req-1', contentType: 'application/json', body: { status: 'processing' }
  }])
})

t.test('404, 409 and the order from GET come back as outcomes', async t => {
  const { orderService, orders } = await setup(t)
  const order = orderService.add(anOrder(10, 'completed'))
  t.same(await orders.patchStatus(order.id, { status: 'processing' }), { outcome: 'conflict' })
  t.same(await orders.patchStatus(anOrder(1).id, { status: 'processing' }), { outcome: 'not_found' })
  t.match(await orders.getOrder(order.id), { outcome: 'ok', order: { status: 'completed' } })
  t.same(await orders.getOrder(anOrder(1).id), { outcome: 'not_found' })
  t.equal(orderService.tokensIssued, 1, 'one token for every call')
})

t.test('after a 401 the token is renewed and the call repeated once', async t => {
  const { orderService, orders } = await setup(t)
  const order = orderService.add(anOrder(10))
  await orders.getOrder(order.id)
  orderService.revokeTokens()
  t.match(await orders.patchStatus(order.id, { status: 'processing' }), { outcome: 'ok' })
  t.equal(orderService.tokensIssued, 2)
  t.match(orderService.calls.slice(1), [
    { method: 'PATCH', answered: 401, authorization: 'Bearer token-1' },
    { method: 'PATCH', answered: 200, authorization: 'Bearer token-2' }
  ])
})

t.test('a second 401 with a fresh token is an unexpected answer, not a loop', async t => {
  const { orderService, orders } = await setup(t)
  const order = orderService.add(anOrder(10))
  orderService.failNext({ method: 'PATCH', orderId: order.id }, 401, 2)
  await t.rejects(orders.patchStatus(order.id, { status: 'processing' }), UnexpectedOrderServiceAnswerError)
  t.equal(orderService.calls.length, 2)
})

t.test('5xx answers are transient', async t => {
  const { orderService, orders } = await setup(t)
  const order = orderService.add(anOrder(10))
  orderService.failNext({ method: 'PATCH', orderId: order.id }, 503)
  orderService.failNext({ method: 'GET', orderId: order.id }, 502)
  await t.rejects(orders.patchStatus(order.id, { status: 'processing' }), TransientOrderServiceError)
  await t.rejects(orders.getOrder(order.id), TransientOrderServiceError)
})

t.test('other 4xx answers are unexpected', async t => {
  const { orderService, orders } = await setup(t)
  const order = orderService.add(anOrder(10))
  orderService.failNext({ method: 'PATCH', orderId: order.id }, 403)
  await t.rejects(orders.patchStatus(order.id, { status: 'processing' }), UnexpectedOrderServiceAnswerError)
})

t.test('an unreachable gateway is transient', async t => {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  server.close()
  await once(server, 'close')
  const client = new OrderServiceClient({ gatewayUrl: `http://127.0.0.1:${port}`, tokens: { getToken: async () => 'token', invalidate () {} } })
  await t.rejects(client.getOrder(anOrder(1).id, 'req-1', log), TransientOrderServiceError)
})

t.test('a gateway that does not answer in time is transient', async t => {
  const server = createServer(() => { /* never answers */ })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.closeAllConnections(); server.close() })
  const { port } = server.address() as AddressInfo
  const client = new OrderServiceClient({ gatewayUrl: `http://127.0.0.1:${port}`, tokens: { getToken: async () => 'token', invalidate () {} }, timeoutMs: 100 })
  await t.rejects(client.getOrder(anOrder(1).id, 'req-1', log), TransientOrderServiceError)
})
