import t, { type Test } from 'tap'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createServiceInstance } from '@orders/platform'
import webApp from '../src/app.ts'

async function buildWebApp (t: Test, files: Record<string, string>) {
  const root = await mkdtemp(path.join(tmpdir(), 'web-app-'))
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, name)), { recursive: true })
    await writeFile(path.join(root, name), content)
  }
  const app = createServiceInstance({ service: 'web', logLevel: 'silent' })
  await app.register(webApp, { root })
  t.teardown(async () => { await app.close(); await rm(root, { recursive: true, force: true }) })
  return app
}

const INDEX = '<!doctype html><title>Orders</title><script type="module" src="/assets/index-abc123.js"></script>'

t.test('every page path of the app answers index.html, never cached', async t => {
  const app = await buildWebApp(t, { 'index.html': INDEX, 'assets/index-abc123.js': 'console.log(1)' })
  for (const url of ['/', '/sign-in', '/my-orders/0b6f6f3e-0000-4000-8000-000000000000', '/new-order?x=1']) {
    const res = await app.inject({ url, headers: { accept: 'text/html' } })
    t.equal(res.statusCode, 200, url)
    t.equal(res.body, INDEX, url)
    t.equal(res.headers['cache-control'], 'no-cache', url)
    t.match(res.headers['content-type'], /text\/html/, url)
  }
})

t.test('built assets are served with a long cache (their names change with their content)', async t => {
  const app = await buildWebApp(t, { 'index.html': INDEX, 'assets/index-abc123.js': 'console.log(1)' })
  const res = await app.inject({ url: '/assets/index-abc123.js' })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['cache-control'], 'public, max-age=31536000, immutable')
  t.match(res.headers['content-type'], /javascript/)
})

t.test('a missing file is a JSON 404, not the app', async t => {
  const app = await buildWebApp(t, { 'index.html': INDEX })
  for (const url of ['/assets/index-old.js', '/favicon.ico']) {
    const res = await app.inject({ url })
    t.equal(res.statusCode, 404, url)
    t.match(res.json(), { statusCode: 404, error: 'Not Found' }, url)
  }
  t.equal((await app.inject({ method: 'POST', url: '/sign-in' })).statusCode, 404, 'only GET and HEAD are pages')
})

t.test('the page may only run its own script and talk to its own origin', async t => {
  const app = await buildWebApp(t, { 'index.html': INDEX })
  const csp = String((await app.inject({ url: '/' })).headers['content-security-policy'])
  t.match(csp, /script-src 'self'/)
  t.match(csp, /connect-src 'self'/)
  t.match(csp, /frame-ancestors 'none'/)
})

t.test('ready once the build is there; not ready without it', async t => {
  const ready = await buildWebApp(t, { 'index.html': INDEX })
  t.equal((await ready.inject({ url: '/readyz' })).statusCode, 200)
  t.equal((await ready.inject({ url: '/healthz' })).statusCode, 200)
  const empty = await buildWebApp(t, { 'assets/x.js': '' })
  const res = await empty.inject({ url: '/readyz' })
  t.equal(res.statusCode, 503)
  t.match(res.json(), { checks: { build: /down/ } })
})
