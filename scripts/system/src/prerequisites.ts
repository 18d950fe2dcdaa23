/**
 * What must hold before anything starts: free ports, HAProxy installed, the database migrated.
 * Nothing is installed here: .ci/run is the one place that installs packages; a missing one
 * stops the start with the command to run.
 */
import { accessSync, constants as fsConstants } from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { createDatabase, ensureDatabaseExists, migrateAllToLatest } from '@orders/platform'
import type { LogLine } from './child.ts'
import { GATEWAY, PORTS, REPO_ROOT, SERVICES, type SystemPorts } from './topology.ts'

const MIGRATIONS_DIR = path.join(REPO_ROOT, 'migrations')

export const INSTALL_HAPROXY = 'apt-get install -y haproxy'

/** Ports nobody listens on right now (the OS picks them; all distinct). */
export async function findFreePorts (count: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: count }, async () => await new Promise<net.Server>((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve(server))
  })))
  const ports = servers.map(server => (server.address() as net.AddressInfo).port)
  await Promise.all(servers.map(async server => await new Promise(resolve => server.close(resolve))))
  return ports
}

/** A full set of free ports, so a test's system never meets `pnpm dev` or another test's. */
export async function freeSystemPorts (): Promise<SystemPorts> {
  const free = await findFreePorts(PORTS.length)
  return Object.fromEntries(PORTS.map((port, i) => [port.key, free[i]])) as unknown as SystemPorts
}

/** Names each busy port by its process and variable, e.g. "8080 (gateway, GATEWAY_PORT)". */
export async function assertPortsFree (ports: SystemPorts): Promise<void> {
  const owners = new Map<keyof SystemPorts, string>([
    ...SERVICES.map(s => [s.port.key, s.name] as const),
    [GATEWAY.port.key, 'gateway'],
    [GATEWAY.stats.port.key, 'HAProxy status page']
  ])
  const busy: string[] = []
  for (const port of PORTS) {
    if (!await canListen(ports[port.key])) busy.push(`${ports[port.key]} (${owners.get(port.key)} (${port.env}))`)
  }
  if (busy.length > 0) {
    throw new Error(`ports already in use: ${busy.join(', ')}. Is another \`pnpm dev\` running? Stop it, or choose other ports.`)
  }
}

async function canListen (port: number): Promise<boolean> {
  return await new Promise(resolve => {
    const server = net.createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

/** The haproxy executable, or an error with the command that installs it. */
export function findHaproxy (): string {
  const found = findExecutable('haproxy')
  if (found) return found
  throw new Error(`HAProxy (the gateway) is not installed. Install it (as root) with: ${INSTALL_HAPROXY}`)
}

function findExecutable (name: string): string | undefined {
  // sbin directories are not on every user's PATH, and Debian installs haproxy in /usr/sbin.
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin']
  for (const dir of dirs.filter(Boolean)) {
    const candidate = path.join(dir, name)
    try {
      accessSync(candidate, fsConstants.X_OK)
      return candidate
    } catch {}
  }
  return undefined
}

/** Creates the database if missing and applies every schema's pending migrations. */
export async function migrate (databaseUrl: string, log: LogLine): Promise<void> {
  if (await ensureDatabaseExists(databaseUrl)) log('system', `created the database ${new URL(databaseUrl).pathname.slice(1)}`)
  const db = createDatabase<any>({ connectionString: databaseUrl, poolSize: 1, applicationName: 'system-migrate' })
  try {
    for (const { schema, results } of await migrateAllToLatest(db, MIGRATIONS_DIR)) {
      for (const result of results) log('system', `migration ${schema}/${result.migrationName} applied`)
    }
  } finally {
    await db.destroy()
  }
}
