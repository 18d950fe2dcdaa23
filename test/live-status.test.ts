import t, { type Test } from 'tap'
import { randomUUID } from 'node:crypto'
import WebSocket from 'ws'
import { call, registerAndLogin, startTestSystem, waitForLogLine } from './system-helper.ts'

/** A WebSocket client that keeps every message and lets a test await the next one. */
async function openSocket (t: Test, url: string) {
  const socket = new WebSocket(url)
  const messages: any[] = []
  let wake: (() => void) | undefined
  socket.on('message', data => { messages.push(JSON.parse(String(data))); wake?.() })
  await new Promise((resolve, reject) => { socket.once('open', resolve); socket.once('error', reject) })
  t.teardown(() => { socket.terminate() })
  return {
    messages,
    close: () => { socket.close() },
    async waitFor (predicate: (m: any) => boolean, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const found = messages.find(predicate)
        if (found) return found
        if (Date.now() > deadline) throw new Error(`no such message within ${timeoutMs} ms; got ${JSON.stringify(messages)}`)
        await new Promise<void>(resolve => { wake = resolve; setTimeout(resolve, 200) })
      }
    }
  }
}

t.test('live order status over WebSocket, across replicas', async t => {
  const { system, gateway, lines } = await startTestSystem(t)
  const wsGateway = gateway.replace(/^http/, 'ws')

  t.test('through the gateway: the owner watches new → processing → completed', async t => {
    const { token } = await registerAndLogin(gateway, `live-${randomUUID()}@example.com`)
    const socket = await openSocket(t, `${wsGateway}/orders/ws?access_token=${token}`)
    const order = (await call(`${gateway}/orders`, { method: 'POST', token, body: { items: [{ sku: 'A', quantity: 2, unit_price: 250 }] } })).body
    await socket.waitFor(m => m.order.id === order.id && m.order.status === 'completed')
    t.same(socket.messages.filter(m => m.order.id === order.id).map(m => m.order.status), ['processing', 'completed'])
    const final = (await call(`${gateway}/orders/${order.id}`, { token })).body
    t.same(socket.messages.at(-1), { type: 'order.status_changed', order: final })

    // HAProxy logs a tunnelled connection when it ends.
    socket.close()
    await waitForLogLine(lines, /^haproxy.*"GET \/orders\/ws HTTP\/1\.1"/)
    const signature = token.split('.')[2]!
    t.notOk(lines.some(line => line.includes(signature)), 'no process logged the access token')
  })

  t.test('a socket on replica 1 hears a change made on replica 2', async t => {
    const { token } = await registerAndLogin(gateway, `cross-${randomUUID()}@example.com`)
    const other = await registerAndLogin(gateway, `other-${randomUUID()}@example.com`)
    const { ports, processorClient } = system
    const onReplica1 = await openSocket(t, `ws://127.0.0.1:${ports.orderService1}/orders/ws?access_token=${token}`)
    const otherOnReplica1 = await openSocket(t, `ws://127.0.0.1:${ports.orderService1}/orders/ws?access_token=${other.token}`)

    // Stop the processor so that only this test moves the order, and only on replica 2.
    const processor = system.processes.get('order-processor')!
    await processor.stop()
    t.teardown(async () => { if (!processor.running) await processor.restart() })

    const replica2 = `http://127.0.0.1:${ports.orderService2}`
    const order = (await call(`${replica2}/orders`, { method: 'POST', token, body: { items: [{ sku: 'X', quantity: 1, unit_price: 1 }] } })).body
    const serviceToken = (await call(`${gateway}/oauth/token`, {
      method: 'POST', body: { grant_type: 'client_credentials', client_id: processorClient.clientId, client_secret: processorClient.clientSecret }
    })).body.access_token
    const patched = await call(`${replica2}/orders/${order.id}`, { method: 'PATCH', token: serviceToken, body: { status: 'processing' } })
    t.equal(patched.status, 200)

    const heard = await onReplica1.waitFor(m => m.order.id === order.id)
    t.same(heard, { type: 'order.status_changed', order: patched.body })
    t.same(otherOnReplica1.messages, [], "another user's socket on the same replica heard nothing")
  })
})
