import { spawn } from 'node:child_process'
import { once } from 'node:events'
import net from 'node:net'
import { fileURLToPath } from 'node:url'

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url))

export interface CommandResult { code: number | null, stdout: string, stderr: string, ms: number }

/**
 * A command as a person runs it from the repository root (`pnpm dlq --help`, `pnpm migrate up`):
 * a real process, with its exit status, its output and how long it took.
 */
export async function runCommand (command: string, args: string[], env: Record<string, string> = {}): Promise<CommandResult> {
  const started = Date.now()
  const child = spawn(command, args, { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', chunk => { stdout += String(chunk) })
  child.stderr.on('data', chunk => { stderr += String(chunk) })
  const [code] = await once(child, 'exit') as [number | null]
  return { code, stdout, stderr, ms: Date.now() - started }
}

/** A port nobody listens on, for "the server is down" (connection refused). */
export async function closedPort (): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as net.AddressInfo
  server.close()
  await once(server, 'close')
  return port
}
