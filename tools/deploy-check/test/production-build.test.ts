import t from 'tap'
import { execFile, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { promisify } from 'node:util'
import { REPO_ROOT } from '@orders/system'
import { createTestDatabase, createTestVhost } from '@orders/test-support'

const run = promisify(execFile)

// What the Dockerfile does for each service image, for the order-service: build, cut the
// deploy folder with production dependencies only, and start it with plain node, no tsx.
t.test('the order-service built and deployed with production dependencies runs with plain node', async t => {
  const deployDir = path.join(await mkdtemp(path.join(tmpdir(), 'deploy-')), 'order-service')
  const database = await createTestDatabase()
  const vhost = await createTestVhost()
  t.teardown(async () => {
    await vhost.drop()
    await database.drop()
    await rm(path.dirname(deployDir), { recursive: true, force: true })
  })
  const pnpm = { cwd: REPO_ROOT, env: { ...process.env, npm_config_nodedir: '/usr' }, timeout: 240_000 }
  await run('pnpm', ['--filter', '@orders/order-service', 'build'], pnpm)
  await run('pnpm', ['--filter', '@orders/order-service', 'deploy', '--prod', deployDir], pnpm)

  const installed = await readdir(path.join(deployDir, 'node_modules', '.pnpm'))
  for (const devOnly of ['tsx@', 'typescript@', 'tap@', 'testcontainers@']) {
    t.notOk(installed.some(name => name.startsWith(devOnly)), `no ${devOnly.slice(0, -1)} in the deploy folder`)
  }
  t.notOk(existsSync(path.join(deployDir, 'node_modules/@orders/platform/src')), 'workspace packages come as dist/ only')
  t.ok(existsSync(path.join(deployDir, 'node_modules/@orders/platform/dist/index.js')))

  // NODE_OPTIONS is left out: tap passes tsx's loader through it, and the point is plain node.
  const { NODE_OPTIONS: _tsx, ...env } = process.env
  const child = spawn(process.execPath, ['--conditions=production', 'dist/server.js'], {
    cwd: deployDir,
    env: { ...env, NODE_ENV: 'production', HOST: '127.0.0.1', PORT: '0', DATABASE_URL: database.serviceUrls['order-service'], AMQP_URL: vhost.url, USER_SERVICE_URL: 'http://127.0.0.1:9', LOG_LEVEL: 'info', SHUTDOWN_DRAIN_MS: '0' },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  const exited = new Promise(resolve => child.once('exit', resolve))
  t.teardown(async () => { child.kill('SIGTERM'); await exited })
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', code => reject(new Error(`the service exited with ${code} before listening`)))
    createInterface({ input: child.stdout! }).on('line', line => {
      const listening = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(line)
      if (listening) resolve(listening[1]!)
    })
  })
  t.same(await (await fetch(`${url}/healthz`)).json(), { status: 'ok' })
  let ready: Response
  const deadline = Date.now() + 15_000
  while ((ready = await fetch(`${url}/readyz`)).status !== 200 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 100))
  t.equal(ready.status, 200, 'database and broker reachable from the built code')
  t.match(await (await fetch(`${url}/metrics`)).text(), /http_request_duration_seconds_count\{method="GET",route="\/healthz",status_code="200"\} 1/)
})
