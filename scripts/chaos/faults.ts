import { execFile } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { promisify } from 'node:util'
import type { ProcessName, RunningSystem } from '@orders/system'

const run = promisify(execFile)

/** How long the broker and the database stay down: long enough for every client to notice. */
const OUTAGE_MS = 3_000

export interface Fault {
  name: string
  /** Causes the fault and restores the service; resolves when it is back. */
  inject: (system: RunningSystem) => Promise<void>
  /** Brings the service back if `inject` failed halfway (always safe to call). */
  restore: () => Promise<void>
}

export function killAndRestart (process: ProcessName): Fault {
  let system: RunningSystem | undefined
  return {
    name: `SIGKILL ${process}`,
    async inject (running) {
      system = running
      const child = running.processes.get(process)!
      child.kill('SIGKILL')
      await child.waitForExit()
      await child.restart()
    },
    async restore () {
      const child = system?.processes.get(process)
      if (child && !child.running) await child.restart()
    }
  }
}

export const restartRabbitMq: Fault = {
  name: 'RabbitMQ stop_app/start_app',
  async inject () {
    await rabbitmqctl('stop_app')
    await new Promise(resolve => setTimeout(resolve, OUTAGE_MS))
    await this.restore()
  },
  async restore () {
    await rabbitmqctl('start_app')
    await rabbitmqctl('await_startup')
  }
}

export const restartPostgres: Fault = {
  name: 'PostgreSQL cluster restart',
  async inject () {
    await pgCtlCluster('stop', '-m', 'fast')
    await new Promise(resolve => setTimeout(resolve, OUTAGE_MS))
    await this.restore()
  },
  async restore () {
    const { stdout } = await run('pg_lsclusters', ['-h'])
    if (stdout.includes('online')) return
    await pgCtlCluster('start')
  }
}

async function rabbitmqctl (command: string): Promise<void> {
  await run('rabbitmqctl', ['-q', command], { timeout: 120_000 })
}

async function pgCtlCluster (action: string, ...args: string[]): Promise<void> {
  const version = readdirSync('/etc/postgresql').sort().at(-1)!
  await run('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', action, ...args], { timeout: 120_000 })
}
