/**
 * The launcher (@orders/system) and haproxy.cfg with stand-in services: tiny HTTP servers that answer
 * /readyz and say which process answered. What is proven here is the launcher's and the
 * gateway's part — start, routing, failover, stop — independent of the real services,
 * which the end-to-end tests exercise.
 */
import { once } from 'node:events'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import http from 'node:http'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { freeSystemPorts, SERVICES, startSystem, type RunningSystem, type ServiceName, type SystemOptions } from '../src/index.ts'

const STAND_IN = `
import { createHash } from 'node:crypto'
import http from 'node:http'
const name = process.env.INSTANCE_ID ?? process.env.STAND_IN_NAME
if (process.env.STAND_IN_FAIL === name) { console.error(name + ': cannot start, configuration is broken'); process.exit(3) }
const server = http.createServer((req, res) => {
  if (req.url === '/healthz' || req.url === '/readyz') return res.end('{"status":"ok"}')
  res.writeHead(req.url.startsWith('/orders') ? 401 : 200, { 'content-type': 'application/json' })
  res.end(JSON.stringify({ servedBy: name, env: { secret: process.env.PROCESSOR_CLIENT_SECRET ?? null, clients: process.env.SERVICE_CLIENTS ?? null }, requestId: req.headers['x-request-id'], forwardedFor: req.headers['x-forwarded-for'] }))
})
// An upgrade answers 101 and then echoes every byte: enough to see the gateway tunnel it.
server.on('upgrade', (req, socket) => {
  // HAProxy checks Sec-WebSocket-Accept, as a browser does.
  const accept = createHash('sha1').update(req.headers['sec-websocket-key'] + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64')
  socket.write('HTTP/1.1 101 Switching Protocols\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\nSec-WebSocket-Accept: ' + accept + '\\r\\nX-Served-By: ' + name + '\\r\\n\\r\\n')
  socket.pipe(socket)
})
server.listen(Number(process.env.PORT), process.env.HOST)
process.on('SIGTERM', () => { server.close(() => process.exit(0)); server.closeAllConnections() })
`

const dir = await mkdtemp(path.join(tmpdir(), 'system-launcher-'))
t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })

/** One stand-in script per service, so STAND_IN_NAME can tell them apart. */
async function standIns (): Promise<Record<ServiceName, string>> {
  const entries = {} as Record<ServiceName, string>
  for (const { name } of SERVICES) {
    const file = path.join(dir, `${name}.mjs`)
    await writeFile(file, `process.env.STAND_IN_NAME ??= ${JSON.stringify(name)}\n${STAND_IN}`)
    entries[name] = file
  }
  return entries
}

async function start (options: Partial<SystemOptions> = {}): Promise<{ system: RunningSystem, lines: string[] }> {
  const lines: string[] = []
  const system = await startSystem({
    databaseUrl: 'postgres://unused@127.0.0.1:1/unused',
    amqpUrl: 'amqp://unused@127.0.0.1:1',
    migrate: false,
    ports: await freeSystemPorts(),
    entryPoints: await standIns(),
    onLog: (source, line) => { lines.push(`${source} | ${line}`) },
    readyTimeoutMs: 30_000,
    ...options
  })
  return { system, lines }
}

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function get (url: string, init?: RequestInit): Promise<{ status: number, body: any }> {
  const response = await fetch(url, init)
  const text = await response.text()
  return { status: response.status, body: text.startsWith('{') ? JSON.parse(text) : text }
}

// One system for the tests that only look; the last test stops it.
const { system } = await start()
t.teardown(system.stop)

t.test('the gateway routes each path to its service and /orders to both replicas in turn', async t => {
  t.equal((await get(`${system.gatewayUrl}/users/me`)).body.servedBy, 'user-service')
  t.equal((await get(`${system.gatewayUrl}/login`)).body.servedBy, 'user-service')
  t.equal((await get(`${system.gatewayUrl}/.well-known/jwks.json`)).body.servedBy, 'user-service')
  t.equal((await get(`${system.gatewayUrl}/oauth/token`)).body.servedBy, 'user-service')
  const servedBy = new Set<string>()
  for (let i = 0; i < 4; i++) {
    const { status, body } = await get(`${system.gatewayUrl}/orders/${i}`)
    t.equal(status, 401)
    servedBy.add(body.servedBy)
  }
  t.same([...servedBy].sort(), ['order-service-1', 'order-service-2'])
})

t.test('the gateway sets X-Request-ID when it is missing, keeps a client\'s, and sets X-Forwarded-For', async t => {
  const fresh = (await get(`${system.gatewayUrl}/users/me`)).body
  t.match(fresh.requestId, /^[0-9a-f-]{36}$/)
  t.equal(fresh.forwardedFor, '127.0.0.1')
  const kept = (await get(`${system.gatewayUrl}/users/me`, { headers: { 'x-request-id': 'client-chosen-1', 'x-forwarded-for': '203.0.113.9' } })).body
  t.equal(kept.requestId, 'client-chosen-1')
  t.equal(kept.forwardedFor, '127.0.0.1', 'a client cannot claim another address')
})

t.test('an upgrade to /orders/ws is tunnelled to an order replica', async t => {
  const request = http.request(`${system.gatewayUrl}/orders/ws`, { headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' } })
  request.end()
  const [response, socket] = await Promise.race([
    once(request, 'upgrade') as Promise<[http.IncomingMessage, import('node:net').Socket]>,
    once(request, 'response').then(([answer]) => { throw new Error(`no upgrade: ${(answer as http.IncomingMessage).statusCode}`) })
  ])
  t.equal(response.statusCode, 101)
  t.match(response.headers['x-served-by'], /^order-service-[12]$/)
  socket.write('ping')
  const [echo] = await once(socket, 'data') as [Buffer]
  t.equal(echo.toString(), 'ping')
  socket.destroy()
})

t.test('every other path goes to the web app; while it is down, a JSON 503', async t => {
  t.equal((await get(`${system.gatewayUrl}/`)).body.servedBy, 'web')
  t.equal((await get(`${system.gatewayUrl}/my-orders/1`)).body.servedBy, 'web')
  t.equal((await get(`${system.gatewayUrl}/ordersummary`)).body.servedBy, 'web', '/orders matches whole path segments only')

  const web = system.processes.get('web')!
  await web.stop()
  const { status, body } = await get(`${system.gatewayUrl}/`)
  t.equal(status, 503)
  t.equal(body.statusCode, 503)
  t.equal(body.error, 'Service Unavailable')
  await web.restart()
  t.equal((await get(`${system.gatewayUrl}/`)).body.servedBy, 'web')
})

t.test('the processor and the user-service share a fresh client secret', async t => {
  const { body } = await get(`${system.gatewayUrl}/users/me`)
  const clients = JSON.parse(body.env.clients)
  t.same(clients, [{ client_id: 'order-processor', client_secret: system.processorClient.clientSecret, scopes: ['orders:status'] }])
  t.ok(system.processorClient.clientSecret.length >= 32)
})

t.test('ports in use are reported before anything starts', async t => {
  await t.rejects(start({ ports: system.ports }), /ports already in use: .*gateway \(GATEWAY_PORT\)/)
})

t.test('a killed order replica costs no request, and restart() brings it back', async t => {
  const replica = system.processes.get('order-service-1')!
  replica.kill('SIGKILL')
  t.same(await replica.waitForExit(), { code: null, signal: 'SIGKILL' })
  for (let i = 0; i < 6; i++) {
    const method = i % 2 === 0 ? 'GET' : 'POST'
    const { status, body } = await get(`${system.gatewayUrl}/orders`, { method })
    t.equal(status, 401, `${method} still answered by a replica`)
    t.equal(body.servedBy, 'order-service-2')
  }

  await replica.restart()
  t.ok(replica.running)
  const servedBy = new Set<string>()
  for (let i = 0; i < 4; i++) servedBy.add((await get(`${system.gatewayUrl}/orders`)).body.servedBy)
  t.same([...servedBy].sort(), ['order-service-1', 'order-service-2'])
})

t.test('stop() leaves no process behind', async t => {
  const pids = [...system.processes.values()].map(p => p.pid!)
  t.equal(pids.length, 7)
  t.ok(pids.every(alive))

  await system.stop()
  t.same(pids.filter(alive), [])
  t.ok([...system.processes.values()].every(p => !p.running))
  await system.stop() // a second stop() is harmless
})

t.test('a process that exits while starting fails the start, naming it with its output, and the others are stopped', async t => {
  const lines: string[] = []
  await t.rejects(start({ env: { STAND_IN_FAIL: 'relay' }, onLog: (source, line) => { lines.push(`${source} | ${line}`) } }),
    /relay exited with code 3 before it was ready[^]*relay: cannot start, configuration is broken/)
  t.ok(lines.includes('relay | relay: cannot start, configuration is broken'), 'its output reached onLog')
  for (const name of ['user-service', 'order-service-1', 'order-service-2', 'order-processor']) {
    t.ok(lines.some(line => line.startsWith(`system | ${name} exited`)), `${name} was stopped`)
  }
})
