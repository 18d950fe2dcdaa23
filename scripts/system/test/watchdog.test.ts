/**
 * A launcher killed with SIGKILL runs no exit hook of its own: the watchdog must stop its
 * children. Stand-in services (answering /readyz and /healthz) keep this independent of the
 * real ones.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'

const STAND_IN = `
import http from 'node:http'
const server = http.createServer((req, res) => { res.writeHead(req.url.startsWith('/orders') ? 401 : 200); res.end('{}') })
server.listen(Number(process.env.PORT), process.env.HOST)
process.on('SIGTERM', () => { server.close(() => process.exit(0)); server.closeAllConnections() })
`
const LAUNCHER = `
import { freeSystemPorts, SERVICES, startSystem } from ${JSON.stringify(path.resolve(import.meta.dirname, '../src/index.ts'))}
const system = await startSystem({
  databaseUrl: 'postgres://unused@127.0.0.1:1/unused', amqpUrl: 'amqp://unused@127.0.0.1:1', migrate: false,
  ports: await freeSystemPorts(), onLog: () => {}, readyTimeoutMs: 30_000,
  entryPoints: Object.fromEntries(SERVICES.map(s => [s.name, process.env.STAND_IN]))
})
console.log(JSON.stringify([...system.processes.values()].map(p => p.pid)))
setInterval(() => {}, 1_000)
`

function alive (pid: number): boolean {
  try { process.kill(pid, 0); return true } catch { return false }
}

t.test('children of a launcher killed with SIGKILL are stopped by the watchdog', async t => {
  const dir = await mkdtemp(path.join(tmpdir(), 'system-watchdog-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  await writeFile(path.join(dir, 'stand-in.mjs'), STAND_IN)
  await writeFile(path.join(dir, 'launcher.mts'), LAUNCHER)

  const launcher = spawn(process.execPath, ['--import', 'tsx', path.join(dir, 'launcher.mts')], {
    cwd: path.resolve(import.meta.dirname, '..'),
    env: { ...process.env, STAND_IN: path.join(dir, 'stand-in.mjs') },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  const [firstLine] = await Promise.race([
    once(createInterface({ input: launcher.stdout! }), 'line') as Promise<[string]>,
    once(launcher, 'exit').then(([code]) => { throw new Error(`the launcher exited with ${String(code)} before it was ready`) })
  ])
  const pids = JSON.parse(firstLine) as number[]
  t.equal(pids.length, 7, 'every process started')
  t.ok(pids.every(alive))

  launcher.kill('SIGKILL')
  await once(launcher, 'exit')
  // The children are not ours to wait on; their pids are polled until gone.
  const deadline = Date.now() + 15_000
  while (pids.some(alive) && Date.now() < deadline) await sleep(100)
  t.same(pids.filter(alive), [], 'no child outlives the launcher')
})
