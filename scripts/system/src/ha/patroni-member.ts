/**
 * One Patroni member: the Patroni process and the PostgreSQL it runs. Patroni starts the
 * postmaster in a session of its own (setsid), so a signal to Patroni's process group does
 * not reach PostgreSQL: a hard kill signals both, and a stop makes sure no postmaster is left.
 */
import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import http from 'node:http'
import path from 'node:path'
import { SupervisedProcess, type LogLine } from '../supervised-process.ts'
import type { Watchdog } from '../watchdog.ts'
import type { MemberLayout, RunAs } from './patroni-config.ts'
import { pollUntil } from './waiting.ts'

export interface PatroniMember {
  readonly name: string
  readonly pgPort: number
  readonly restPort: number
  readonly running: boolean
  /** SIGKILL to Patroni and its postmaster at once, as when the machine dies; resolves when both are gone. */
  killHard: () => Promise<void>
  /** Starts Patroni again (a former primary rejoins through pg_rewind) and waits until PostgreSQL runs. */
  restart: () => Promise<void>
  lastLines: (count?: number) => string[]
}

export interface MemberProcess extends PatroniMember {
  start: () => void
  /** SIGTERM: Patroni stops PostgreSQL (fast shutdown), then exits. */
  stop: () => Promise<void>
}

export function patroniMember (
  layout: MemberLayout,
  { configFile, runAs, log, watchdog, readyTimeoutMs, onUnexpectedExit }: {
    configFile: string
    runAs: RunAs | undefined
    log: LogLine
    watchdog: Watchdog
    readyTimeoutMs: number
    /** Patroni exited without being asked to (killHard() and stop() ask). */
    onUnexpectedExit?: (member: PatroniMember) => void
  }
): MemberProcess {
  const engine = new SupervisedProcess({
    exitLogSource: 'ha',
    name: layout.name,
    command: '/usr/bin/patroni',
    args: [configFile],
    cwd: layout.dir,
    env: { PATH: process.env.PATH, HOME: layout.dir, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', PYTHONUNBUFFERED: '1' },
    user: runAs
  }, log, watchdog)

  const postmasterPid = async (): Promise<number | undefined> => {
    const text = await readFile(path.join(layout.dataDir, 'postmaster.pid'), 'utf8').catch(() => '')
    const pid = Number(text.split('\n')[0])
    return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined
  }
  const waitForPostmasterGone = async (timeoutMs: number): Promise<void> => {
    await pollUntil(`the postmaster of ${layout.name} gone`, async () => await postmasterPid() === undefined ? true : undefined, { timeoutMs, intervalMs: 100 })
  }
  const waitUntilPostgresRuns = async (): Promise<void> => {
    await pollUntil(`PostgreSQL of ${layout.name} running`, async () => {
      const { status } = await patroniGet(layout.restPort, '/health')
      return status === 200 ? true : undefined
    }, { timeoutMs: readyTimeoutMs, intervalMs: 250 })
  }

  const member: MemberProcess = {
    name: layout.name,
    pgPort: layout.pgPort,
    restPort: layout.restPort,
    get running () { return engine.running },
    start: () => { engine.start() },
    killHard: async () => {
      const postmaster = await postmasterPid()
      engine.kill('SIGKILL')
      if (postmaster !== undefined) signal(postmaster, 'SIGKILL')
      await engine.waitForExit()
      await waitForPostmasterGone(10_000)
    },
    restart: async () => {
      if (engine.running) await engine.stop()
      log('ha', `restarting Patroni member ${layout.name}`)
      engine.start()
      await waitUntilPostgresRuns()
    },
    stop: async () => {
      await engine.stop({ graceMs: 30_000 })
      // Patroni stops PostgreSQL before it exits; should it have died first, no postmaster
      // may outlive the stop.
      const postmaster = await postmasterPid()
      if (postmaster !== undefined) {
        log('ha', `${layout.name}: PostgreSQL outlived Patroni; stopping it`)
        signal(postmaster, 'SIGQUIT')
        await waitForPostmasterGone(10_000).catch(() => { signal(postmaster, 'SIGKILL') })
        await waitForPostmasterGone(5_000)
      }
    },
    lastLines: count => engine.lastLines(count)
  }
  engine.onUnexpectedExit = () => { onUnexpectedExit?.(member) }
  return member
}

function signal (pid: number, name: NodeJS.Signals): void {
  try { process.kill(pid, name) } catch {}
}

/** A zombie counts as gone: in a container nobody may reap an orphaned postmaster. */
function isAlive (pid: number): boolean {
  try { process.kill(pid, 0) } catch { return false }
  const stat = readProcStat(pid)
  return stat === undefined || !/^\d+ \(.*\) Z/.test(stat)
}

function readProcStat (pid: number): string | undefined {
  try { return readFileSync(`/proc/${pid}/stat`, 'utf8') } catch { return undefined }
}

export interface ClusterMemberStatus { name: string, role: string, state: string, lag?: number | string, timeline?: number }

/** GET on a member's REST API; status 0 when nothing answers. */
export async function patroniGet (restPort: number, path: string): Promise<{ status: number, body: string }> {
  return await new Promise(resolve => {
    const request = http.get({ host: '127.0.0.1', port: restPort, path, timeout: 2_000 }, response => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', chunk => { body += chunk })
      response.on('end', () => { resolve({ status: response.statusCode ?? 0, body }) })
    })
    request.on('timeout', () => { request.destroy() })
    request.on('error', () => { resolve({ status: 0, body: '' }) })
  })
}

/** The members as Patroni's /cluster endpoint of the first member that answers lists them. */
export async function clusterStatus (restPorts: number[]): Promise<ClusterMemberStatus[]> {
  for (const port of restPorts) {
    const { status, body } = await patroniGet(port, '/cluster')
    if (status === 200) return (JSON.parse(body) as { members: ClusterMemberStatus[] }).members
  }
  throw new Error('no Patroni member answers on its REST API')
}
