/**
 * Live order status over the WebSocket, through the gateway and across replicas: the owner
 * hears every change of their order, from whichever replica made it, and nobody else does.
 * Stops the processor in one test and starts it again when that test ends.
 */
import type { Test } from 'tap'
import { randomUUID } from 'node:crypto'
import { EventEmitter, once } from 'node:events'
import { LIVE_STATUS_PATH } from '@orders/contracts/live-status'
import { watchOrders } from '@orders/test-support'
import { call, registerAndLogin, stopUntilTestEnds, waitForLogLine, type TestSystem } from '../system-helper.ts'

type HeardOrder = { id: string, status: string } & Record<string, unknown>

/** Every status change `token`'s socket at `origin` hears, and a way to await the next one. */
async function listen (t: Test, origin: string, token: string) {
  const heard: HeardOrder[] = []
  const arrivals = new EventEmitter()
  const watch = await watchOrders(origin, token, order => { heard.push(order); arrivals.emit('order') })
  t.teardown(async () => { await watch.close() })
  return {
    heard,
    close: async () => { await watch.close() },
    async waitFor (predicate: (order: HeardOrder) => boolean, timeoutMs = 15_000): Promise<HeardOrder> {
      const signal = AbortSignal.timeout(timeoutMs)
      try {
        for (;;) {
          const found = heard.find(predicate)
          if (found) return found
          await once(arrivals, 'order', { signal })
        }
      } catch (err) {
        if (!signal.aborted) throw err
        throw new Error(`no such status change within ${timeoutMs} ms; heard ${JSON.stringify(heard)}`)
      }
    }
  }
}

export async function liveStatusFlow (t: Test, shared: TestSystem) {
  const { system, gateway, lines } = shared
  // HAProxy logs a tunnelled connection when it ends, with the path and without the query.
  const socketLogLine = new RegExp(`^haproxy.*"GET ${LIVE_STATUS_PATH} HTTP/1\\.1"`)

  t.test('through the gateway: the owner watches new → processing → completed', async t => {
    const { token } = await registerAndLogin(gateway, `live-${randomUUID()}@example.com`)
    const socket = await listen(t, gateway, token)
    const order = (await call(`${gateway}/orders`, { method: 'POST', token, body: { items: [{ sku: 'A', quantity: 2, unit_price: 250 }] } })).body
    await socket.waitFor(o => o.id === order.id && o.status === 'completed')
    t.same(socket.heard.filter(o => o.id === order.id).map(o => o.status), ['processing', 'completed'])
    const final = (await call(`${gateway}/orders/${order.id}`, { token })).body
    t.same(socket.heard.at(-1), final, 'the last message carries the order as GET /orders/{id} reads it')

    const from = lines.length
    await socket.close()
    await waitForLogLine(lines, socketLogLine, { from })
    const signature = token.split('.')[2]!
    t.notOk(lines.some(line => line.includes(signature)), 'no process logged the access token')
  })

  t.test('a socket on replica 1 hears a change made on replica 2', async t => {
    const { token } = await registerAndLogin(gateway, `cross-${randomUUID()}@example.com`)
    const other = await registerAndLogin(gateway, `other-${randomUUID()}@example.com`)
    const { ports, processorClient } = system
    const replica1 = `http://127.0.0.1:${ports.orderService1}`
    const onReplica1 = await listen(t, replica1, token)
    const otherOnReplica1 = await listen(t, replica1, other.token)

    // Stop the processor so that only this test moves the order, and only on replica 2.
    await stopUntilTestEnds(t, shared, 'order-processor')

    const replica2 = `http://127.0.0.1:${ports.orderService2}`
    const order = (await call(`${replica2}/orders`, { method: 'POST', token, body: { items: [{ sku: 'X', quantity: 1, unit_price: 1 }] } })).body
    const serviceToken = (await call(`${gateway}/oauth/token`, {
      method: 'POST', body: { grant_type: 'client_credentials', client_id: processorClient.clientId, client_secret: processorClient.clientSecret }
    })).body.access_token
    const patched = await call(`${replica2}/orders/${order.id}`, { method: 'PATCH', token: serviceToken, body: { status: 'processing' } })
    t.equal(patched.status, 200)

    const heard = await onReplica1.waitFor(o => o.id === order.id)
    t.same(heard, patched.body)
    t.same(otherOnReplica1.heard, [], "another user's socket on the same replica heard nothing")
  })
}
