import t, { type Test } from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { buildIfStale, isBuildCurrent } from '../src/build.ts'

/** A tiny app in the same layout as packages/web, built with the same Vite configuration. */
async function tinyApp (t: Test) {
  const workspace = await mkdtemp(path.join(tmpdir(), 'web-build-'))
  t.teardown(async () => { await rm(workspace, { recursive: true, force: true }) })
  const webRoot = path.join(workspace, 'web')
  await mkdir(path.join(webRoot, 'client'), { recursive: true })
  await mkdir(path.join(workspace, 'contracts/src'), { recursive: true })
  await writeFile(path.join(workspace, 'contracts/src/live-status.ts'), 'export const LIVE_STATUS_PATH = "/orders/ws"\n')
  await writeFile(path.join(webRoot, 'index.html'), '<!doctype html><title>t</title><script type="module" src="/client/main.tsx"></script>')
  await writeFile(path.join(webRoot, 'client/main.tsx'), 'document.title = "built"\n')
  return { webRoot, distDir: path.join(webRoot, 'dist') }
}

t.test('builds when dist/ is missing, not again while it is current, and again after a source changes', async t => {
  const paths = await tinyApp(t)
  t.equal(await isBuildCurrent(paths), false)
  t.equal(await buildIfStale(paths, () => {}), 'built')
  t.ok((await readdir(path.join(paths.distDir, 'assets'))).some(name => name.endsWith('.js')))
  t.same((await readdir(path.join(paths.distDir, 'assets'))).filter(name => name.endsWith('.map')), [], 'no source maps are published')
  t.equal(await buildIfStale(paths, () => {}), 'current')

  const later = new Date(Date.now() + 5_000)
  await utimes(path.join(paths.webRoot, 'client/main.tsx'), later, later)
  t.equal(await isBuildCurrent(paths), false)
  t.equal(await buildIfStale(paths, () => {}), 'built')
})

t.test('a change in the contracts beside the app makes the build stale (the app bundles the WebSocket protocol)', async t => {
  const paths = await tinyApp(t)
  t.equal(await buildIfStale(paths, () => {}), 'built')
  const later = new Date(Date.now() + 5_000)
  await utimes(path.join(paths.webRoot, '../contracts/src/live-status.ts'), later, later)
  t.equal(await isBuildCurrent(paths), false)
})

t.test('servers starting together build once; the others wait and serve that build', async t => {
  const paths = await tinyApp(t)
  const results = await Promise.all([1, 2, 3].map(async () => await buildIfStale(paths, () => {})))
  t.same(results.sort(), ['built', 'current', 'current'])
  t.equal(await isBuildCurrent(paths), true)
})

t.test('a lock left by a server that died while building is taken over', async t => {
  const paths = await tinyApp(t)
  const dead = spawnSync(process.execPath, ['-e', '']).pid
  await mkdir(path.join(paths.webRoot, '.build-lock'))
  await writeFile(path.join(paths.webRoot, '.build-lock', 'pid'), String(dead))
  t.equal(await buildIfStale(paths, () => {}), 'built')
})

t.test('the bundle compiles the workspace packages from their sources, so a fresh checkout (no dist/ of theirs) builds', async t => {
  const { default: config } = await import('../src/vite-config.ts')
  // "production" would pick @orders/contracts' compiled dist/, which only `pnpm build` makes.
  t.notOk(config.resolve.conditions.includes('production'), 'no "production" condition')
  t.ok(config.resolve.conditions.includes('browser'), 'browser builds of dependencies')
})
