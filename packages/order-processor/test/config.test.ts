import t from 'tap'
import { loadProcessorConfig } from '../src/config.ts'

t.test('defaults: gateway on 8080, token endpoint behind it, health on 3005', async t => {
  const config = loadProcessorConfig({ PROCESSOR_CLIENT_SECRET: 's3cret' })
  t.match(config, {
    GATEWAY_URL: 'http://127.0.0.1:8080',
    TOKEN_URL: 'http://127.0.0.1:8080/oauth/token',
    PORT: 3005,
    PROCESSOR_CLIENT_ID: 'order-processor',
    PAYMENT_LIMIT: 10_000_000,
    PROCESSING_DELAY_MS: 0,
    PROCESSOR_PREFETCH: 16,
    LOG_LEVEL: 'info'
  })
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
