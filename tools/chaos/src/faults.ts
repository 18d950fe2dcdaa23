import type { TcpProxy } from '@orders/test-support'
import type { ProcessName, RunningSystem } from '@orders/system'

/** How long the broker and the database stay unreachable: long enough for every client to notice. */
export const OUTAGE_MS = 3_000
const BACK_TIMEOUT_MS = 60_000

export interface Fault {
  name: string
  /** Causes the fault and ends it; resolves when every process is ready again. */
  inject: (system: RunningSystem) => Promise<void>
  /** Ends the fault if `inject` failed halfway (always safe to call). */
  restore: () => Promise<void>
}

/** SIGKILL one of the system's own processes, then start it again. */
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

/**
 * An outage of the server behind `proxy` as this system sees it: every open connection
 * dropped and new ones refused for `outageMs`, then let through again. Only the proxy the
 * system was started behind is cut; the server keeps running for everyone else.
 */
export function outage (server: string, proxy: TcpProxy, outageMs = OUTAGE_MS): Fault {
  return {
    name: `${server} unreachable for ${outageMs / 1000} s`,
    async inject (system) {
      proxy.cut()
      await new Promise(resolve => setTimeout(resolve, outageMs))
      proxy.restore()
      // Back means every process answers /readyz again (database and broker reachable).
      await Promise.all([...system.processes.values()].map(async child => { await child.waitUntilReady(BACK_TIMEOUT_MS) }))
    },
    async restore () { proxy.restore() }
  }
}
