/**
 * haproxy.cfg's defences, against HAProxy itself in front of a stub server: a body that
 * trickles in is cut off, one address cannot hold every connection, the status page is off
 * without STATS_PASSWORD and asks for it with one; an idle WebSocket tunnel ends within minutes;
 * a body over the services' limit is refused by the gateway before it is read.
 */
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { freeSystemPorts, findHaproxy } from '../src/prerequisites.ts'
import { GATEWAY_ADDRESSES, REPO_ROOT } from '../src/topology.ts'

async function startGateway (t: Test, env: Record<string, string> = {}) {
  const reached: string[] = []
  const stub = http.createServer((request, response) => {
    reached.push(`${request.method} ${request.url}`)
    request.resume()
    request.on('end', () => { response.setHeader('content-type', 'application/json'); response.end('{"ok":true}') })
  })
  await new Promise<void>(resolve => stub.listen(0, '127.0.0.1', resolve))
  const stubPort = (stub.address() as net.AddressInfo).port
  const ports = await freeSystemPorts()
  // Every server at the stub; the gateway and the status page on free ports.
  const addresses = Object.fromEntries(GATEWAY_ADDRESSES.flatMap(({ hostEnv, port }) => [[hostEnv, '127.0.0.1'], [port.env, String(port.key === 'gateway' || port.key === 'haproxyStats' ? ports[port.key] : stubPort)]]))
  const child = spawn(findHaproxy(), ['-db', '-f', path.join(REPO_ROOT, 'haproxy.cfg')], { env: { ...process.env, ...addresses, ...env }, stdio: 'ignore' })
  t.teardown(async () => {
    child.kill('SIGKILL')
    await new Promise(resolve => stub.close(resolve))
  })
  const gateway = `http://127.0.0.1:${ports.gateway}`
  for (let i = 0; i < 100; i++) {
    const up = await fetch(`${gateway}/orders`).then(r => r.status === 200, () => false)
    if (up) break
    await sleep(100)
  }
  return { gateway, gatewayPort: ports.gateway, stats: `http://127.0.0.1:${ports.haproxyStats}`, reached }
}

t.test('a body over 1 MiB is refused by the gateway with a JSON 413, and never reaches a service', async t => {
  const { gateway, reached } = await startGateway(t)
  const res = await fetch(`${gateway}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pad: 'x'.repeat(1024 * 1024) }) })
  t.equal(res.status, 413)
  t.match(await res.json(), { statusCode: 413, message: /at most 1 MiB/ })
  t.notOk(reached.some(r => r.startsWith('POST')), 'the stub saw no POST')
  const small = await fetch(`${gateway}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pad: 'x'.repeat(1024 * 1024 - 100) }) })
  t.equal(small.status, 200, 'a body within the limit goes through')
})

t.test('a body trickling in is cut off with 408 at the whole-request timeout (10 s), not held open', async t => {
  const { gatewayPort } = await startGateway(t)
  const socket = net.connect(gatewayPort, '127.0.0.1')
  const started = Date.now()
  socket.write('POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{')
  const trickle = setInterval(() => { socket.write(' ') }, 1_000)
  let answer = ''
  socket.on('data', chunk => { answer += String(chunk) })
  socket.on('error', () => {})
  await new Promise(resolve => socket.once('close', resolve))
  clearInterval(trickle)
  t.match(answer, /^HTTP\/1\.1 408/)
  t.ok(Date.now() - started < 13_000, `closed after ${Date.now() - started} ms`)
})

t.test('one address holds at most 100 connections at once', async t => {
  const { gatewayPort } = await startGateway(t)
  const sockets: net.Socket[] = []
  t.teardown(() => { for (const socket of sockets) socket.destroy() })
  // HAProxy accepts and then closes a connection over the limit; each is sent a request, and
  // one that gets no answer was refused. (The readiness poll's keep-alive connection counts too.)
  const answered = async (socket: net.Socket) => await new Promise<boolean>(resolve => {
    socket.on('error', () => { resolve(false) })
    socket.once('close', () => { resolve(false) })
    socket.once('data', () => { resolve(true) })
    socket.write('GET /orders HTTP/1.1\r\nHost: x\r\n\r\n')
  })
  let accepted = 0
  for (; accepted < 150; accepted++) {
    const socket = net.connect(gatewayPort, '127.0.0.1')
    sockets.push(socket)
    if (!await answered(socket)) break
  }
  t.ok(accepted >= 95 && accepted <= 100, `${accepted} connections held open, then one refused`)
  sockets.slice(0, 5).forEach(socket => { socket.destroy() })
  await sleep(200)
  const again = net.connect(gatewayPort, '127.0.0.1')
  sockets.push(again)
  t.ok(await answered(again), 'another fits once some are closed')
})

t.test('the status page: off without STATS_PASSWORD; with it, only with the password', async t => {
  const off = await startGateway(t)
  t.not((await fetch(`${off.stats}/stats`)).status, 200)
  const on = await startGateway(t, { STATS_PASSWORD: 'a-test-password' })
  t.equal((await fetch(`${on.stats}/stats`)).status, 401)
  const authorization = `Basic ${Buffer.from('stats:a-test-password').toString('base64')}`
  t.equal((await fetch(`${on.stats}/stats;csv`, { headers: { authorization } })).status, 200)
})

t.test('an idle WebSocket tunnel is closed within minutes, and not before the services\' 30-s heartbeats come twice', async t => {
  // Read from the file: waiting minutes for HAProxy to close a tunnel would cost the suite more than it proves.
  const setting = /^\s*timeout tunnel (\d+)(ms|s|m|h)\s*$/m.exec(readFileSync(path.join(REPO_ROOT, 'haproxy.cfg'), 'utf8'))
  t.ok(setting, 'haproxy.cfg sets timeout tunnel')
  const unitMs = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }
  const timeoutMs = Number(setting![1]) * unitMs[setting![2] as keyof typeof unitMs]
  t.ok(timeoutMs >= 60_000 && timeoutMs <= 10 * 60_000, `timeout tunnel ${setting![1]}${setting![2]}: between 1 and 10 minutes`)
})
