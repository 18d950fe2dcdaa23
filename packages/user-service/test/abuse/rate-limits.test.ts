import t from 'tap'
import { createTestRedis, startTcpProxy } from '@orders/test-support'
import { loadUserServiceConfig } from '../../src/config.ts'
import { buildUserService, register, type App } from '../helper.ts'

const pick = <T extends object, K extends keyof T>(object: T, ...keys: K[]) => Object.fromEntries(keys.map(key => [key, object[key]])) as Pick<T, K>

const CLIENT = { id: 'order-processor', secret: 'the-processor-secret' }
const ANOTHER_CLIENT = { id: 'another-service', secret: 'another-secret' }
const serviceClients = [CLIENT, ANOTHER_CLIENT].map(({ id, secret }) => ({ client_id: id, client_secret: secret, scopes: ['orders:status' as const] }))

function loginFrom (app: App, address: string, email: string, password = 'a wrong password') {
  return app.inject({ method: 'POST', url: '/login', remoteAddress: address, payload: { email, password } })
}

t.test('sign-in limits', async t => {
  const { app } = await buildUserService(t, { config: { LOGIN_LIMIT_PER_ACCOUNT: 3, LOGIN_LIMIT_PER_CLIENT: 8 } })
  await register(app, 'victim@example.com')

  t.test('one account from one address: 429 with Retry-After and a message after the limit, the wait growing', async t => {
    const statuses = []
    for (let i = 0; i < 3; i++) statuses.push((await loginFrom(app, '10.0.0.1', 'victim@example.com')).statusCode)
    t.same(statuses, [401, 401, 401])
    const first = await loginFrom(app, '10.0.0.1', 'victim@example.com')
    t.equal(first.statusCode, 429)
    t.match(first.json(), { statusCode: 429, error: 'Too Many Requests', message: /try again in \d+ seconds/ })
    const firstWait = Number(first.headers['retry-after'])
    t.ok(firstWait > 0 && firstWait <= 60, `Retry-After ${firstWait}`)
    const second = await loginFrom(app, '10.0.0.1', 'victim@example.com')
    t.equal(second.statusCode, 429)
    t.ok(Number(second.headers['retry-after']) > firstWait, `the wait grows: ${firstWait} s, then ${String(second.headers['retry-after'])} s`)
    // Even the right password waits: the limit does not tell a right guess from a wrong one.
    t.equal((await loginFrom(app, '10.0.0.1', 'victim@example.com', 'correct horse battery')).statusCode, 429)
  })

  t.test('the owner, from another address, still signs in: nobody can lock an account', async t => {
    const res = await loginFrom(app, '10.0.0.2', 'victim@example.com', 'correct horse battery')
    t.equal(res.statusCode, 200)
  })

  t.test('one address trying many accounts: 429 after the per-address limit', async t => {
    const statuses = []
    for (let i = 0; i < 9; i++) statuses.push((await loginFrom(app, '10.0.0.3', `nobody${i}@example.com`)).statusCode)
    t.same(statuses, [...Array(8).fill(401), 429])
  })
})

t.test('registration and token limits', async t => {
  const { app } = await buildUserService(t, { serviceClients, config: { REGISTRATION_LIMIT_PER_CLIENT: 2, TOKEN_LIMIT_PER_CLIENT: 3 } })

  t.test('registrations per address', async t => {
    const post = (i: number, address: string) => app.inject({ method: 'POST', url: '/users', remoteAddress: address, payload: { email: `r${i}-${address}@example.com`, password: 'correct horse battery' } })
    t.same([(await post(1, '10.1.0.1')).statusCode, (await post(2, '10.1.0.1')).statusCode], [201, 201])
    const refused = await post(3, '10.1.0.1')
    t.equal(refused.statusCode, 429)
    t.ok(Number(refused.headers['retry-after']) > 0)
    t.equal((await post(4, '10.1.0.2')).statusCode, 201, 'another address is not affected')
  })

  t.test('token requests per client id and address, wrong secrets included', async t => {
    const token = (secret: string, { id, address } = { id: CLIENT.id, address: '10.2.0.1' }) =>
      app.inject({ method: 'POST', url: '/oauth/token', remoteAddress: address, payload: { grant_type: 'client_credentials', client_id: id, client_secret: secret } })
    const statuses = []
    for (let i = 0; i < 3; i++) statuses.push((await token(`guess-${i}`)).statusCode)
    t.same(statuses, [401, 401, 401])
    const refused = await token(CLIENT.secret)
    t.equal(refused.statusCode, 429)
    t.match(refused.json(), { statusCode: 429, message: String })
    t.ok(Number(refused.headers['retry-after']) > 0)
    // Counted per client id and address together: neither another address nor another client is held back.
    t.equal((await token(CLIENT.secret, { id: CLIENT.id, address: '10.2.0.2' })).statusCode, 200, 'the same client from another address')
    t.equal((await token(ANOTHER_CLIENT.secret, { id: ANOTHER_CLIENT.id, address: '10.2.0.1' })).statusCode, 200, 'another client from the same address')
  })
})

t.test('the default limits refuse well before 20 a minute: wrong passwords for one account, sign-ins and registrations from one address', async t => {
  const defaults = loadUserServiceConfig({})
  const { app } = await buildUserService(t, { config: pick(defaults, 'LOGIN_LIMIT_PER_ACCOUNT', 'LOGIN_LIMIT_PER_CLIENT', 'REGISTRATION_LIMIT_PER_CLIENT', 'TOKEN_LIMIT_PER_CLIENT') })
  await register(app, 'victim@example.com')
  /** The number of the first try answered 429, or undefined if none of 20 was. */
  const firstRefused = async (attempt: (i: number) => Promise<{ statusCode: number }>) => {
    for (let i = 1; i <= 20; i++) if ((await attempt(i)).statusCode === 429) return i
    return undefined
  }
  const wrongPasswords = await firstRefused(async () => await loginFrom(app, '10.5.0.1', 'victim@example.com'))
  const signIns = await firstRefused(async i => await loginFrom(app, '10.5.0.2', `someone${i}@example.com`))
  const registrations = await firstRefused(async i => await app.inject({ method: 'POST', url: '/users', remoteAddress: '10.5.0.3', payload: { email: `new${i}@example.com`, password: 'correct horse battery' } }))
  for (const [what, refusedAt] of [['wrong passwords for one account', wrongPasswords], ['sign-ins from one address', signIns], ['registrations from one address', registrations]] as const) {
    t.ok(refusedAt !== undefined && refusedAt < 15, `${what}: ${refusedAt === undefined ? 'none of 20 refused' : `refused from try ${refusedAt}`}`)
  }
})

t.test('replicas share the counts (Redis)', async t => {
  const redis = await createTestRedis()
  t.teardown(async () => { await redis.drop() })
  const config = { LOGIN_LIMIT_PER_ACCOUNT: 4, LOGIN_LIMIT_PER_CLIENT: 100 }
  const one = await buildUserService(t, { redis, config })
  const two = await buildUserService(t, { redis, config })
  const statuses = []
  for (let i = 0; i < 5; i++) statuses.push((await loginFrom(i % 2 === 0 ? one.app : two.app, '10.3.0.1', 'someone@example.com')).statusCode)
  t.same(statuses, [401, 401, 401, 401, 429], 'the fifth try is refused although each replica saw fewer than five')
  t.ok((await redis.keys()).some(key => key.startsWith('rate-limit:')), 'the counters live under the test\'s own prefix')
})

t.test('while Redis is unreachable, each replica still limits on its own, at once and without errors', async t => {
  const proxy = await startTcpProxy({ port: Number(new URL(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379').port || 6379) })
  const redis = await createTestRedis({ url: `redis://127.0.0.1:${proxy.port}` })
  t.teardown(async () => { await redis.drop(); await proxy.close() })
  const { app } = await buildUserService(t, { redis, config: { LOGIN_LIMIT_PER_ACCOUNT: 3, LOGIN_LIMIT_PER_CLIENT: 100 } })
  await loginFrom(app, '10.4.0.9', 'warm@example.com') // connected and counting in Redis
  t.equal(redis.client.status, 'ready')

  proxy.cut()
  const started = Date.now()
  const statuses = []
  for (let i = 0; i < 4; i++) statuses.push((await loginFrom(app, '10.4.0.1', 'outage@example.com')).statusCode)
  t.same(statuses, [401, 401, 401, 429], 'the limit holds, counted in memory')
  t.ok(Date.now() - started < 5_000, `four sign-ins during the outage took ${Date.now() - started} ms`)

  proxy.restore()
  await new Promise<void>(resolve => { if (redis.client.status === 'ready') resolve(); else redis.client.once('ready', () => { resolve() }) })
  const statusesAfter = []
  for (let i = 0; i < 4; i++) statusesAfter.push((await loginFrom(app, '10.4.0.2', 'after@example.com')).statusCode)
  t.same(statusesAfter, [401, 401, 401, 429], 'back in Redis once it answers again')
  t.ok((await redis.keys()).some(key => key.includes('after@example.com')), 'counted in Redis again')
})
