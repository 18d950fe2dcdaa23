/**
 * Builds the browser app with Vite when dist/ is missing or older than its sources, so
 * `pnpm dev` and the tests always serve the current code without a separate build step,
 * and a start with an up-to-date build costs a few file stats.
 */
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

export interface BuildPaths {
  /** The package directory: index.html, client/, src/vite-config.ts, package.json. */
  webRoot: string
  distDir: string
}

/**
 * What the build reads; a change to any of these makes dist/ stale. The app bundles the
 * contracts' live-status module (the WebSocket protocol), so the contracts count too.
 */
const SOURCES = ['index.html', 'client', 'src/vite-config.ts', 'package.json', '../contracts/src']

/** Newest modification time among the sources that exist (a deployment may ship dist/ alone). */
async function newestSourceTime (webRoot: string): Promise<number> {
  let newest = 0
  const visit = async (file: string): Promise<void> => {
    const info = await stat(file).catch(() => undefined)
    if (!info) return
    if (info.isDirectory()) await Promise.all((await readdir(file)).map(async name => { await visit(path.join(file, name)) }))
    else newest = Math.max(newest, info.mtimeMs)
  }
  await Promise.all(SOURCES.map(async source => { await visit(path.join(webRoot, source)) }))
  return newest
}

export async function isBuildCurrent ({ webRoot, distDir }: BuildPaths): Promise<boolean> {
  const built = await stat(path.join(distDir, 'index.html')).catch(() => undefined)
  return built !== undefined && built.mtimeMs >= await newestSourceTime(webRoot)
}

/** A lock without an owner's pid this old was left by a process that died right after taking it. */
const ORPHANED_LOCK_MS = 5_000
/** No build takes this long; the pid in such a lock belongs to someone else by now. */
const STALE_LOCK_MS = 120_000

/** True when the lock's owner is gone (killed mid-build): the lock may be taken over. */
async function isAbandoned (lock: string): Promise<boolean> {
  const age = await stat(lock).then(info => Date.now() - info.mtimeMs, () => 0)
  if (age > STALE_LOCK_MS) return true
  const owner = Number(await readFile(path.join(lock, 'pid'), 'utf8').catch(() => ''))
  if (owner > 0) {
    try {
      process.kill(owner, 0)
      return false
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'ESRCH'
    }
  }
  return age > ORPHANED_LOCK_MS
}

/**
 * Several servers can start at once (parallel test files each start a platform), and Vite
 * empties dist/ before writing it: one build at a time, behind a lock directory (mkdir is
 * atomic), and whoever gets the lock after someone else built finds dist/ current.
 */
export async function buildIfStale (paths: BuildPaths, log: (message: string) => void): Promise<'current' | 'built'> {
  if (await isBuildCurrent(paths)) return 'current'
  const lock = path.join(paths.webRoot, '.build-lock')
  for (;;) {
    try {
      await mkdir(lock)
      await writeFile(path.join(lock, 'pid'), String(process.pid))
      break
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      if (await isAbandoned(lock)) await rm(lock, { recursive: true, force: true })
      else await sleep(100)
    }
  }
  try {
    if (await isBuildCurrent(paths)) return 'current'
    log('building the web app (dist/ is missing or older than its sources)')
    const started = Date.now()
    // Imported here: a deployment that ships a finished dist/ never loads Vite.
    const [{ build }, { default: viteConfig }] = await Promise.all([import('vite'), import('./vite-config.ts')])
    await build({ ...viteConfig, configFile: false, root: paths.webRoot, build: { ...viteConfig.build, outDir: paths.distDir } })
    log(`built the web app in ${Date.now() - started} ms`)
    return 'built'
  } finally {
    await rm(lock, { recursive: true, force: true })
  }
}
