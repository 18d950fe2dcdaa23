/**
 * Stops the HA engines when the process that started them dies without stopping them (a
 * SIGKILL, a crash, a test runner's timeout): a small detached node process reads the
 * process groups to stop on its stdin and, when that pipe closes, sends them SIGTERM, then
 * SIGKILL after 15 s. Without it a killed `pnpm dev --ha` or test would leave three Erlang
 * VMs, etcd, Patroni and PostgreSQL running and holding their ports.
 */
import { spawn } from 'node:child_process'

export interface OrphanGuard {
  /** Stop this process group (its leader's pid) if we die. */
  add: (pgid: number) => void
  remove: (pgid: number) => void
  close: () => Promise<void>
}

const GRACE_MS = 15_000

const GUARD_SOURCE = `
process.title = 'orders-ha-orphan-guard'
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
  setInterval(() => {
    signalAll(0)
    if (groups.size === 0) process.exit(0)
    if (Date.now() - started > ${GRACE_MS}) { signalAll('SIGKILL'); process.exit(0) }
  }, 200)
})
`

export function startOrphanGuard (): OrphanGuard {
  const child = spawn(process.execPath, ['-e', GUARD_SOURCE], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] })
  const stdin = child.stdin!
  stdin.on('error', () => {})
  // Neither the guard nor its pipe keeps our event loop alive.
  child.unref()
  ;(stdin as unknown as { unref?: () => void }).unref?.()
  return {
    add: pgid => { if (stdin.writable) stdin.write(`+${pgid}\n`) },
    remove: pgid => { if (stdin.writable) stdin.write(`-${pgid}\n`) },
    close: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.ref()
      const exited = new Promise(resolve => child.once('exit', resolve))
      stdin.end()
      await exited
      child.unref()
    }
  }
}
