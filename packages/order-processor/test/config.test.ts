import t from 'tap'
import { loadProcessorConfig } from '../src/config.ts'

t.test('defaults: gateway on 8080, token endpoint behind it, health on 3005, its own database role and broker user', async t => {
  const config = loadProcessorConfig({ PROCESSOR_CLIENT_SECRET: 's3cret' })
  t.match(config, {
    GATEWAY_URL: 'http://127.0.0.1:8080',
    TOKEN_URL: 'http://127.0.0.1:8080/oauth/token',
    PORT: 3005,
    PROCESSOR_CLIENT_ID: 'order-processor',
    PAYMENT_LIMIT: 10_000_000,
    PROCESSING_DELAY_MS: 0,
    PROCESSOR_PREFETCH: 16,
    RETRY_DELAYS_MS: [1_000, 5_000, 30_000, 120_000],
    DATABASE_URL: 'postgres://order_processor@127.0.0.1:5432/order_platform',
    AMQP_URL: 'amqp://order-processor@127.0.0.1:5672',
    LOG_LEVEL: 'info'
  })
})

t.test('retry delays are a comma-separated list of milliseconds', async t => {
  t.same(loadProcessorConfig({ PROCESSOR_CLIENT_SECRET: 's', RETRY_DELAYS_MS: '200,400' }).RETRY_DELAYS_MS, [200, 400])
  t.same(loadProcessorConfig({ PROCESSOR_CLIENT_SECRET: 's', RETRY_DELAYS_MS: '50' }).RETRY_DELAYS_MS, [50])
  for (const bad of ['0', '200,,400', '1s', '-5', '200, 400', String(86_400_001)]) {
    t.throws(() => loadProcessorConfig({ PROCESSOR_CLIENT_SECRET: 's', RETRY_DELAYS_MS: bad }), /RETRY_DELAYS_MS/, bad)
  }
})

t.test('the token endpoint follows GATEWAY_URL unless TOKEN_URL is set', async t => {
  t.equal(loadProcessorConfig({ PROCESSOR_CLIENT_SECRET: 's', GATEWAY_URL: 'http://gw:9000/' }).TOKEN_URL, 'http://gw:9000/oauth/token')
  t.equal(loadProcessorConfig({ PROCESSOR_CLIENT_SECRET: 's', TOKEN_URL: 'http://auth/token' }).TOKEN_URL, 'http://auth/token')
})

t.test('numbers come from strings', async t => {
  const config = loadProcessorConfig({ PROCESSOR_CLIENT_SECRET: 's', PAYMENT_LIMIT: '500', PROCESSING_DELAY_MS: '20', PROCESSOR_PREFETCH: '4' })
  t.match(config, { PAYMENT_LIMIT: 500, PROCESSING_DELAY_MS: 20, PROCESSOR_PREFETCH: 4 })
})

t.test('the client secret is required', async t => {
  t.throws(() => loadProcessorConfig({}), /PROCESSOR_CLIENT_SECRET/)
})

t.test('bad values are named', async t => {
  t.throws(() => loadProcessorConfig({ PROCESSOR_CLIENT_SECRET: 's', PAYMENT_LIMIT: 'lots' }), /PAYMENT_LIMIT/)
  t.throws(() => loadProcessorConfig({ PROCESSOR_CLIENT_SECRET: 's', PROCESSOR_PREFETCH: '0' }), /PROCESSOR_PREFETCH/)
  t.throws(() => loadProcessorConfig({ PROCESSOR_CLIENT_SECRET: 's', GATEWAY_URL: 'gateway:8080' }), /GATEWAY_URL/)
})
