import t from 'tap'
import { randomUUID } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import WebSocket from 'ws'
import { buildOrderService, sampleItems } from './helper.ts'

t.test('/metrics: order status transitions and open WebSockets', async t => {
  const { app, issuer } = await buildOrderService(t)
  await app.listen({ host: '127.0.0.1', port: 0 })
  const metric = async (series: string) => {
    const line = (await app.inject({ url: '/metrics' })).body.split('\n').find(l => l.startsWith(`${series} `))
    return line === undefined ? undefined : Number(line.split(' ').pop())
  }
  const owner = randomUUID()
  const asOwner = { authorization: `Bearer ${issuer.userToken(owner)}` }

  const order = (await app.inject({ method: 'POST', url: '/orders', headers: asOwner, payload: { items: sampleItems } })).json()
  await app.inject({ method: 'POST', url: `/orders/${order.id}/cancel`, headers: asOwner })
  await app.inject({ method: 'POST', url: `/orders/${order.id}/cancel`, headers: asOwner }) // 409: no transition
  t.equal(await metric('order_status_transitions_total{from="none",to="new"}'), 1, 'a new order')
  t.equal(await metric('order_status_transitions_total{from="new",to="cancelled"}'), 1, 'one cancel committed, the refused one not counted')
  t.equal(await metric('http_request_duration_seconds_count{method="POST",route="/orders/:id/cancel",status_code="409"}'), 1, 'the refusal is in the HTTP metrics')

  t.equal(await metric('order_service_websocket_connections'), 0)
  const socket = new WebSocket(`ws://127.0.0.1:${(app.server.address() as AddressInfo).port}/orders/ws?access_token=${issuer.userToken(owner)}`)
  await new Promise((resolve, reject) => { socket.once('open', resolve); socket.once('error', reject) })
  t.equal(await metric('order_service_websocket_connections'), 1, 'one open socket')
  socket.close()
  await new Promise(resolve => socket.once('close', resolve))
  // The server sees the close a moment after the client: poll, bounded.
  for (let i = 0; i < 100 && await metric('order_service_websocket_connections') !== 0; i++) await new Promise(resolve => setTimeout(resolve, 10))
  t.equal(await metric('order_service_websocket_connections'), 0, 'closed again')
})
