import { randomBytes } from 'node:crypto'
import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { pino } from 'pino'
import { brokerUser, createBrokerConnection } from '@orders/platform'
import { createTestDatabase, createTestVhost } from '@orders/test-support'

const SERVER = fileURLToPath(new URL('../src/server.ts', import.meta.url))
const PASSWORD = 'correct horse battery staple'
const CLIENT_SECRET = 'processor-secret-value'
const ENCRYPTION_KEY = randomBytes(32).toString('base64')

// As in production: its own database role and broker user.
t.test('the server process', async t => {
  const database = await createTestDatabase()
  const vhost = await createTestVhost({ serviceUsers: true })
  const own = { DATABASE_URL: database.serviceUrls['user-service'], AMQP_URL: vhost.serviceUrls!['user-service'] }
  const observer = createBrokerConnection(vhost.url, 'user-service-server-test', pino({ level: 'silent' }))
  t.teardown(async () => {
    await observer.close()
    await vhost.drop()
    await database.drop()
  })
  await observer.exchangeDeclare({ exchange: 'users.events', type: 'topic', durable: true })
  const { queue } = await observer.queueDeclare({ exclusive: true })
  await observer.queueBind({ queue, exchange: 'users.events', routingKey: 'user_registered' })

  const child = spawn(process.execPath, ['--import', 'tsx', SERVER], {
    env: {
      ...process.env,
      ...own,
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'debug',
      NODE_ENV: 'production',
      SIGNING_KEY_ENCRYPTION_KEY: ENCRYPTION_KEY,
      SERVICE_CLIENTS: JSON.stringify([{ client_id: 'order-processor', client_secret: CLIENT_SECRET, scopes: ['orders:status'] }])
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  child.stdout.on('data', chunk => { output += chunk })
  child.stderr.on('data', chunk => { output += chunk })
  const exited = once(child, 'exit')
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })

  const baseUrl = await waitFor(() => /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1], 20_000)
  const call = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${baseUrl}${path}`, init)
    return { status: res.status, body: await res.json() }
  }
  const issuedTokens: string[] = []
  const postJson = (path: string, body: object) => call(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })

  t.test('listens on PORT and is ready once the broker is connected', async t => {
    const ready = await waitFor(async () => (await call('/readyz')).status === 200 || undefined, 10_000)
    t.ok(ready)
  })

  t.test('registering publishes user_registered through the in-process relay, with the user-service\'s broker user as its user-id', async t => {
    const res = await postJson('/users', { email: 'ada@example.com', password: PASSWORD })
    t.equal(res.status, 201)
    const message = await waitFor(() => observer.basicGet({ queue, noAck: true }), 5_000)
    t.match(message.body, { type: 'user_registered', data: { user: { id: res.body.id } } })
    t.equal(message.userId, brokerUser(own.AMQP_URL))
  })

  t.test('signs in and issues service tokens from SERVICE_CLIENTS', async t => {
    const loginRes = await postJson('/login', { email: 'ada@example.com', password: PASSWORD })
    t.equal(loginRes.status, 200)
    const me = await call('/users/me', { headers: { authorization: `Bearer ${loginRes.body.access_token}` } })
    t.equal(me.status, 200)
    const tokenRes = await postJson('/oauth/token', { grant_type: 'client_credentials', client_id: 'order-processor', client_secret: CLIENT_SECRET })
    t.equal(tokenRes.status, 200)
    issuedTokens.push(loginRes.body.access_token, tokenRes.body.access_token)
  })

  t.test('stops cleanly on SIGTERM', async t => {
    child.kill('SIGTERM')
    const [code] = await exited
    t.equal(code, 0)
  })

  t.test('never logged a password, a client secret or a token', async t => {
    t.ok(output.length > 0, 'there are logs')
    t.notMatch(output, PASSWORD)
    t.notMatch(output, CLIENT_SECRET)
    t.notMatch(output, ENCRYPTION_KEY)
    t.equal(issuedTokens.length, 2)
    for (const token of issuedTokens) t.notMatch(output, token.split('.')[2]!)
  })

  t.test('refuses to start in production without a key-encryption key, or with one that does not decrypt the stored keys', async t => {
    const start = async (env: Record<string, string>) => {
      const refused = spawn(process.execPath, ['--import', 'tsx', SERVER], {
        env: { ...process.env, ...own, HOST: '127.0.0.1', PORT: '0', NODE_ENV: 'production', SIGNING_KEY_ENCRYPTION_KEY: '', ...env },
        stdio: ['ignore', 'pipe', 'pipe']
      })
      let stderr = ''
      refused.stderr.on('data', chunk => { stderr += chunk })
      const [code] = await once(refused, 'exit') as [number | null]
      return { code, stderr }
    }
    const none = await start({})
    t.equal(none.code, 1)
    t.match(none.stderr, /^user-service: Invalid configuration from the environment:\n {2}SIGNING_KEY_ENCRYPTION_KEY: required when NODE_ENV=production/)
    const wrong = await start({ SIGNING_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64') })
    t.equal(wrong.code, 1)
    t.match(wrong.stderr, /^user-service: SIGNING_KEY_ENCRYPTION_KEY does not decrypt the stored signing key \S+: it is not the key the signing keys were encrypted with\n$/)
  })
})

async function waitFor<T> (probe: () => T | undefined | Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    try {
      const value = await probe()
      if (value !== undefined) return value
    } catch {}
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  throw new Error(`gave up after ${timeoutMs} ms`)
}
