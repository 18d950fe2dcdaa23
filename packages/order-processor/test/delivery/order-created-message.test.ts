import t from 'tap'
import { decodeOrderCreated, requestIdOf } from '../../src/delivery/order-created-message.ts'
import { anOrder, orderCreated } from '../fixtures.ts'

const event = orderCreated(anOrder(1234))

t.test('a valid event parsed by the AMQP client is accepted', async t => {
  const decoded = decodeOrderCreated({ body: event, headers: { 'x-request-id': 'req-1' }, messageId: 'm-1' })
  t.ok(decoded.valid)
  t.equal(decoded.orderId, event.data.order.id)
  t.equal(decoded.requestId, 'req-1')
})

t.test('a JSON body sent without a content type (a Buffer) is accepted', async t => {
  const decoded = decodeOrderCreated({ body: Buffer.from(JSON.stringify(event)), messageId: 'm-1' })
  t.ok(decoded.valid)
})

t.test('a body that is not JSON is invalid', async t => {
  const decoded = decodeOrderCreated({ body: Buffer.from('{not json'), messageId: 'm-1' })
  t.notOk(decoded.valid)
  t.match(decoded, { reason: /not JSON/, orderId: undefined })
})

t.test('an event of another version or type is invalid, and still names its order', async t => {
  for (const body of [{ ...event, version: 2 }, { ...event, type: 'order_status_changed' }]) {
    const decoded = decodeOrderCreated({ body, messageId: 'm-1' })
    t.notOk(decoded.valid)
    t.match(decoded, { reason: /not an order_created v1 event/, orderId: event.data.order.id })
  }
})

t.test('formats are checked: an order id that is not a uuid is invalid', async t => {
  const body = structuredClone(event)
  body.data.order.id = 'order-1'
  const decoded = decodeOrderCreated({ body, messageId: 'm-1' })
  t.notOk(decoded.valid)
  t.match(decoded, { reason: /\/data\/order\/id/ })
})

t.test('a missing total is invalid', async t => {
  const body = structuredClone(event) as unknown as { data: { order: Record<string, unknown> } }
  delete body.data.order.total
  t.notOk(decodeOrderCreated({ body }).valid)
})

t.test('the request id is the x-request-id header, else the correlationId, else the messageId', async t => {
  t.equal(requestIdOf({ body: null, headers: { 'x-request-id': 'req-h' }, correlationId: 'req-c', messageId: 'm' }), 'req-h')
  t.equal(requestIdOf({ body: null, correlationId: 'req-c', messageId: 'm' }), 'req-c')
  t.equal(requestIdOf({ body: null, headers: {}, messageId: 'm' }), 'm')
  t.match(requestIdOf({ body: null }), /^[0-9a-f-]{36}$/)
})
