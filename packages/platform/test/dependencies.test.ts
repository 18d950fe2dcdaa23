import t from 'tap'
import { spawn } from 'node:child_process'
import net from 'node:net'
import { resolveServiceUrls } from '@orders/test-support'
import { reachBroker, reachDatabase } from '@orders/platform'

/** A port nothing listens on. */
async function closedPort (): Promise<number> {
  const server = net.createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise(resolve => server.close(resolve))
  return port
}

t.test('a database nobody listens for is named within 5 s, in one line', async t => {
  const port = await closedPort()
  const started = Date.now()
  await t.rejects(reachDatabase(`postgres://postgres@127.0.0.1:${port}/x`), { message: `cannot reach PostgreSQL at 127.0.0.1:${port}: connection refused` })
  t.ok(Date.now() - started < 5_000)
})

t.test('a broker nobody listens for is named within 5 s, in one line', async t => {
  const port = await closedPort()
  const started = Date.now()
  await t.rejects(reachBroker(`amqp://guest:guest@127.0.0.1:${port}`), { message: `cannot reach RabbitMQ at 127.0.0.1:${port}: connection refused` })
  t.ok(Date.now() - started < 5_000)
})

t.test('a server that accepts the connection but never answers is named too', async t => {
  const silent = net.createServer(() => {})
  await new Promise<void>(resolve => silent.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { silent.close() })
  const { port } = silent.address() as net.AddressInfo
  await t.rejects(reachBroker(`amqp://guest:guest@127.0.0.1:${port}`, { timeoutMs: 1_000 }), { message: `cannot reach RabbitMQ at 127.0.0.1:${port}: no answer within 1 s` })
  await t.rejects(reachDatabase(`postgres://postgres@127.0.0.1:${port}/x`, { timeoutMs: 1_000 }), { message: /^cannot reach PostgreSQL at 127\.0\.0\.1:\d+: no answer within 1 s$/ })
})

t.test('the machine\'s own servers are reached', async t => {
  const { amqpUrl, databaseUrl } = await resolveServiceUrls()
  await reachBroker(amqpUrl)
  await reachDatabase(databaseUrl, { maintenanceDatabase: true })
  t.ok(true, 'both answered')
})

t.test('a service started with its database down says so in one line and exits, no stack trace', async t => {
  const port = await closedPort()
  const child = spawn(process.execPath, ['--import', 'tsx', 'packages/user-service/src/server.ts'], {
    cwd: new URL('../../..', import.meta.url).pathname,
    // The broker is up (the tests'), so that only the database is named.
    env: { ...process.env, DATABASE_URL: `postgres://user_service@127.0.0.1:${port}/order_platform`, AMQP_URL: (await resolveServiceUrls()).amqpUrl, PORT: '0', LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stderr = ''
  child.stderr.on('data', chunk => { stderr += String(chunk) })
  const started = Date.now()
  const code = await new Promise(resolve => child.on('exit', resolve))
  t.equal(code, 1)
  t.ok(Date.now() - started < 8_000, 'within a few seconds (the process\'s own start included)')
  t.equal(stderr.trim(), `user-service: cannot reach PostgreSQL at 127.0.0.1:${port}: connection refused`)
})
