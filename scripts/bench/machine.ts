import { execFile } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { sql, type Kysely } from 'kysely'
import { REPO_ROOT } from '@orders/system'

export interface MachineFacts {
  cores: number
  cpuModel: string
  memoryGiB: number
  node: string
  kernel: string
  postgres: string
  haproxy: string
  /** 1, 5 and 15 minute load averages when the run started. */
  loadAverage: number[]
  /** The commit measured, and the files changed on top of it (a run of uncommitted work says so). */
  commit: string
  uncommitted: string[]
}

export interface RunningProcesses {
  /** Every process by its command name, with how many there were. */
  byName: Record<string, number>
  /** What the node processes were running (script path only; never their environment or other arguments). */
  nodeScripts: Record<string, number>
}

const run = promisify(execFile)

export async function machineFacts (db: Kysely<any>): Promise<MachineFacts> {
  const postgres = await sql<{ version: string }>`select version()`.execute(db).then(r => r.rows[0]?.version ?? '?', () => '?')
  const haproxy = await run('haproxy', ['-v'], { timeout: 5_000 })
    .then(r => r.stdout.split('\n')[0] ?? '?')
    .catch(async () => await run('/usr/sbin/haproxy', ['-v'], { timeout: 5_000 }).then(r => r.stdout.split('\n')[0] ?? '?', () => 'not found'))
  const commit = await run('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, timeout: 5_000 }).then(r => r.stdout.trim(), () => '?')
  const uncommitted = await run('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: REPO_ROOT, timeout: 5_000 })
    .then(r => r.stdout.split('\n').filter(Boolean).map(line => line.slice(3)), () => [])
  return {
    commit,
    uncommitted,
    cores: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? '?',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30 * 10) / 10,
    node: process.version,
    kernel: `${os.type()} ${os.release()}`,
    postgres: postgres.split(' on ')[0] ?? postgres,
    haproxy: haproxy.replace(/ - https?:.*$/, ''),
    loadAverage: os.loadavg().map(value => Math.round(value * 100) / 100)
  }
}

export function runningProcesses (): RunningProcesses {
  const byName: Record<string, number> = {}
  const nodeScripts: Record<string, number> = {}
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    let comm: string
    try { comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim() } catch { continue }
    byName[comm] = (byName[comm] ?? 0) + 1
    if (comm !== 'node') continue
    let args: string[]
    try { args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0') } catch { continue }
    const script = args.slice(1).find(arg => /\.(ts|js|mjs|cjs)$/.test(arg) && !arg.startsWith('-')) ?? '(no script: -e or REPL)'
    const inRepo = path.isAbsolute(script) && script.startsWith(REPO_ROOT) ? path.relative(REPO_ROOT, script) : script
    const shown = inRepo.replace(/^.*\/node_modules\//, 'node_modules/')
    nodeScripts[shown] = (nodeScripts[shown] ?? 0) + 1
  }
  const sorted = (record: Record<string, number>) => Object.fromEntries(Object.entries(record).sort((a, b) => b[1] - a[1]))
  return { byName: sorted(byName), nodeScripts: sorted(nodeScripts) }
}
