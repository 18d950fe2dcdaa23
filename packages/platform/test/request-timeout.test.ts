import t from 'tap'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { createServiceInstance, registerServiceBasics } from '../src/index.ts'

t.test('a request whose body trickles in is cut off at the whole-request timeout', async t => {
  const app = createServiceInstance({ service: 'timeout-test', logLevel: 'silent', requestTimeoutMs: 1_000 })
  await registerServiceBasics(app, { title: 'timeout-test', description: 'timeouts', readiness: {} })
  app.post('/login', { config: { public: true } }, async () => ({ ok: true }))
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(async () => { await app.close() })

  const socket = net.connect((app.server.address() as AddressInfo).port, '127.0.0.1')
  const started = Date.now()
  socket.write('POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{')
  // One more byte every 300 ms: each arrives well within any idle timeout.
  const trickle = setInterval(() => { socket.write(' ') }, 300)
  let answer = ''
  socket.on('data', chunk => { answer += String(chunk) })
  await new Promise(resolve => socket.once('close', resolve))
  clearInterval(trickle)
  const elapsed = Date.now() - started
  t.match(answer, /^HTTP\/1\.1 408/, 'answered 408 Request Timeout')
  t.ok(elapsed < 3_500, `closed after ${elapsed} ms`)
})

t.test('the default is 30 s', async t => {
  const app = createServiceInstance({ service: 'timeout-test', logLevel: 'silent' })
  t.teardown(async () => { await app.close() })
  // Fastify sets it but its initialConfig type does not list it.
  t.equal((app.initialConfig as { requestTimeout?: number }).requestTimeout, 30_000)
})
