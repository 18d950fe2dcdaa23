import t from 'tap'
import { loadConfig } from '@orders/platform'
import { OrderServiceConfig } from '../src/config.ts'

t.test('the live status socket\'s defaults: at most 20 sockets per user, and no origin allowed besides the gateway\'s own', async t => {
  const config = loadConfig(OrderServiceConfig, {})
  t.equal(config.MAX_SOCKETS_PER_USER, 20)
  t.equal(config.ALLOWED_ORIGINS, '')
})

t.test('a cap over 1000 sockets per user stops the start', async t => {
  t.throws(() => loadConfig(OrderServiceConfig, { MAX_SOCKETS_PER_USER: '5000' }), /MAX_SOCKETS_PER_USER/)
})
