/**
 * The watchdog stops the children when the launcher dies without stopping them (SIGKILL, a
 * crash, a test runner's timeout), when no exit hook of the launcher's own can run. It is a
 * small node process that holds a pipe from the launcher: the pipe closing means the launcher
 * is gone. The services and the HA engines (RabbitMQ nodes, etcd, Patroni, PostgreSQL) use
 * it alike: without it a killed `pnpm dev --ha` would leave three Erlang VMs and a database
 * cluster running and holding their ports.
 */
import { spawn } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import { STOP_TIMEOUT_MS } from './child.ts'

export interface Watchdog {
  /** Watch this process group. */
  add: (pid: number) => void
  remove: (pid: number) => void
  /** Ends the watchdog (its groups are already stopped) and waits for it to go. */
  close: () => Promise<void>
}

// Reads "+pid" / "-pid" lines; when its stdin closes it sends SIGTERM to every process group
// still listed, and SIGKILL to what is left after the grace period.
const WATCHDOG_SOURCE = `
process.title = 'order-platform-watchdog'
const groups = new Set(); let buffer = ''
process.stdin.setEncoding('utf8')
process.stdin.on('data', chunk => {
  buffer += chunk
  let i
  while ((i = buffer.indexOf('\\n')) >= 0) {
    const line = buffer.slice(0, i); buffer = buffer.slice(i + 1)
    if (line[0] === '+') groups.add(Number(line.slice(1))); else if (line[0] === '-') groups.delete(Number(line.slice(1)))
  }
})
const signalAll = sig => { for (const g of groups) { try { process.kill(-g, sig) } catch { groups.delete(g) } } }
process.stdin.on('end', () => {
  if (groups.size === 0) process.exit(0)
  signalAll('SIGTERM')
  const started = Date.now()
  const timer = setInterval(() => {
    signalAll(0)
    if (groups.size === 0) process.exit(0)
    if (Date.now() - started > Number(process.argv[1])) { signalAll('SIGKILL'); process.exit(0) }
  }, 200)
})
`

/** `graceMs`: from SIGTERM to SIGKILL (default the services' STOP_TIMEOUT_MS; engines that flush data to disk want longer). */
export function startWatchdog ({ graceMs = STOP_TIMEOUT_MS }: { graceMs?: number } = {}): Watchdog {
  // Detached: a Ctrl-C in the terminal must not end it before the launcher has stopped the children.
  const child = spawn(process.execPath, ['-e', WATCHDOG_SOURCE, String(graceMs)], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] })
  const stdin = child.stdin!
  stdin.on('error', () => {})
  // Neither the watchdog nor its pipe keeps the launcher's event loop alive.
  child.unref()
  ;(stdin as unknown as { unref?: () => void }).unref?.()
  return {
    add: pid => { if (stdin.writable) stdin.write(`+${pid}\n`) },
    remove: pid => { if (stdin.writable) stdin.write(`-${pid}\n`) },
    close: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return
      // Wait for it to go (kept referenced meanwhile, or the launcher could exit first), so
      // nothing is left behind when stop() resolves.
      child.ref()
      const exited = new Promise(resolve => child.once('exit', resolve))
      stdin.end()
      await Promise.race([exited, sleep(2_000)])
      child.unref()
    }
  }
}
