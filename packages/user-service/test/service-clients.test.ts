import t from 'tap'
import { ServiceClients } from '../src/service-clients.ts'

const clients = new ServiceClients([
  { client_id: 'order-processor', client_secret: 'processor-secret', scopes: ['orders:status'] }
])

t.test('the right secret grants the requested scope', async t => {
  t.same(clients.grant('order-processor', 'processor-secret', 'orders:status'), { granted: true, clientId: 'order-processor', scopes: ['orders:status'] })
})

t.test('no scope, a blank scope, or a repeated scope means the client\'s scopes, once each', async t => {
  for (const scope of [undefined, '', '  ', 'orders:status  orders:status']) {
    t.same(clients.grant('order-processor', 'processor-secret', scope), { granted: true, clientId: 'order-processor', scopes: ['orders:status'] }, JSON.stringify(scope))
  }
})

t.test('a wrong secret, a secret differing only in length or case, and an unknown client are invalid_client', async t => {
  for (const [id, secret] of [['order-processor', 'processor-secreT'], ['order-processor', 'processor-secret '], ['order-processor', 'processor'], ['someone', 'processor-secret']]) {
    t.same(clients.grant(id!, secret!), { granted: false, reason: 'invalid_client' }, `${id} / ${secret}`)
  }
})

t.test('a scope the client does not hold is invalid_scope, even next to one it holds', async t => {
  for (const scope of ['orders', 'orders:status orders', 'ORDERS:STATUS']) {
    t.same(clients.grant('order-processor', 'processor-secret', scope), { granted: false, reason: 'invalid_scope' }, scope)
  }
})

t.test('a wrong secret is invalid_client even when the scope is also wrong (nothing is told about scopes)', async t => {
  t.same(clients.grant('order-processor', 'guess', 'orders'), { granted: false, reason: 'invalid_client' })
})
