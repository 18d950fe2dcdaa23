import t from 'tap'
import { MEASUREMENTS, parseBenchOptions } from '../src/options.ts'

const env = { GATEWAY_URL: 'http://127.0.0.1:8080/' }

t.test('defaults: 10 s, 16 connections, every measurement', async t => {
  const options = parseBenchOptions([], env)
  t.match(options, { durationS: 10, connections: 16, stepS: 5, quick: false, maxRate: 4000, logLevel: 'warn', startOwn: false, gatewayUrl: 'http://127.0.0.1:8080' })
  t.same([...options.only], [...MEASUREMENTS])
})

t.test('--quick shortens every phase; --duration still wins', async t => {
  t.match(parseBenchOptions(['--quick'], env), { durationS: 2, stepS: 2, quick: true })
  t.match(parseBenchOptions(['--quick', '--duration', '4'], env), { durationS: 4, stepS: 2 })
})

t.test('--only picks measurements', async t => {
  t.same([...parseBenchOptions(['--only', 'post, baseline'], env).only], ['post', 'baseline'])
  t.same([...parseBenchOptions(['--only', 'growth'], env).only], ['growth'])
  t.throws(() => parseBenchOptions(['--only', 'post,nope'], env), /--only takes some of/)
})

t.test('bad values are refused with the usage', async t => {
  t.throws(() => parseBenchOptions(['--connections', '2.5'], env), /--connections must be a whole number/)
  t.throws(() => parseBenchOptions(['--duration', '0'], env), /--duration must be a positive number/)
  t.throws(() => parseBenchOptions(['--log-level', 'loud'], env), /--log-level takes one of/)
  t.throws(() => parseBenchOptions(['--bogus'], env), /Unknown option/)
})

t.test('load goes to this machine only', async t => {
  t.throws(() => parseBenchOptions([], { GATEWAY_URL: 'http://example.com:8080' }), /must point at this machine/)
})
