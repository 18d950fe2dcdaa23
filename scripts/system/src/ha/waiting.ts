import { execFile } from 'node:child_process'
import net from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

/**
 * Calls `probe` until it returns a value other than undefined, or throws once `timeoutMs` has
 * passed, naming what was awaited and the probe's last answer (its error or its reason).
 */
export async function pollUntil<T> (
  what: string,
  probe: () => Promise<T | undefined>,
  { timeoutMs, intervalMs = 250 }: { timeoutMs: number, intervalMs?: number }
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last = 'no answer yet'
  for (;;) {
    try {
      const value = await probe()
      if (value !== undefined) return value
    } catch (err) {
      last = err instanceof Error ? err.message.trim().split('\n').slice(0, 3).join(' | ') : String(err)
    }
    if (Date.now() > deadline) throw new Error(`${what}: not after ${Math.round(timeoutMs / 1000)} s (last: ${last})`)
    await sleep(intervalMs)
  }
}

/** Runs a command to completion; rejects with its stderr when it fails. */
export async function runCommand (
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv, timeoutMs?: number, input?: string } = {}
): Promise<string> {
  return await new Promise((resolve, reject) => {
    const child = execFile(command, args, { env: options.env, timeout: options.timeoutMs ?? 60_000, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      if (err !== null) reject(new Error(`${path(command)} ${args.join(' ')}: ${stderr.trim() || stdout.trim() || err.message}`))
      else resolve(stdout)
    })
    child.stdin?.end(options.input ?? '')
  })
}

function path (command: string): string { return command.split('/').pop() ?? command }

/**
 * Fails with one message naming every port already taken: a parallel run, a `pnpm dev --ha`
 * still running, or another program.
 */
export async function assertPortsFree (ports: Array<{ port: number, use: string }>, hint: string): Promise<void> {
  const busy: string[] = []
  for (const { port, use } of ports) {
    if (!await canListen(port)) busy.push(`${port} (${use})`)
  }
  if (busy.length > 0) throw new Error(`ports already in use: ${busy.join(', ')}. ${hint}`)
}

async function canListen (port: number): Promise<boolean> {
  return await new Promise(resolve => {
    const server = net.createServer()
    server.once('error', () => { resolve(false) })
    server.listen(port, '127.0.0.1', () => server.close(() => { resolve(true) }))
  })
}

/** `count` ports that are free now, for tests that must not collide with a parallel run. */
export async function findFreePorts (count: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: count }, async () => await new Promise<net.Server>((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => { resolve(server) })
  })))
  const ports = servers.map(server => (server.address() as net.AddressInfo).port)
  await Promise.all(servers.map(async server => await new Promise(resolve => server.close(resolve))))
  return ports
}
