/**
 * HAProxy in front of the Patroni members, the standard Patroni pattern: a client connects to
 * one address, HAProxy sends it to the member whose REST API answers 200 on /primary, and cuts
 * the sessions of a member that stops being primary, so clients reconnect to the new one.
 * The configuration is generated at each start (ports and paths vary per run) and written to
 * <baseDir>/haproxy-postgres.cfg, where it can be read.
 */
import { writeFile } from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import { SupervisedProcess, type LogLine } from '../supervised-process.ts'
import type { Watchdog } from '../watchdog.ts'

export interface Backend { name: string, pgPort: number, restPort: number }

export function haproxyConfig ({ port, socket, backends }: { port: number, socket: string, backends: Backend[] }): string {
  return [
    'global',
    `  stats socket ${socket} mode 600`,
    '  maxconn 400',
    '',
    'defaults',
    '  mode tcp',
    '  timeout connect 2s',
    // Long client/server timeouts: pooled database connections sit idle between queries.
    '  timeout client 30m',
    '  timeout server 30m',
    '  timeout check 2s',
    '',
    'listen postgres',
    `  bind 127.0.0.1:${port}`,
    '  option httpchk GET /primary',
    '  http-check expect status 200',
    // A check a second, down after two failures: a new primary gets traffic ~2 s after it is promoted.
    '  default-server inter 1s fastinter 500ms fall 2 rise 1 on-marked-down shutdown-sessions',
    ...backends.map(backend => `  server ${backend.name} 127.0.0.1:${backend.pgPort} maxconn 200 check port ${backend.restPort}`),
    ''
  ].join('\n')
}

export async function startPostgresHaproxy (
  { baseDir, port, backends, haproxyPath, log, watchdog }: { baseDir: string, port: number, backends: Backend[], haproxyPath: string, log: LogLine, watchdog: Watchdog }
): Promise<{ engine: SupervisedProcess, serversUp: () => Promise<string[]> }> {
  const file = path.join(baseDir, 'haproxy-postgres.cfg')
  const socket = path.join(baseDir, 'haproxy-postgres.sock')
  await writeFile(file, haproxyConfig({ port, socket, backends }))
  const engine = new SupervisedProcess({ exitLogSource: 'ha', name: 'haproxy-postgres', command: haproxyPath, args: ['-db', '-f', file], env: { PATH: process.env.PATH } }, log, watchdog)
  engine.start()
  return { engine, serversUp: async () => await serversUp(socket) }
}

/** The servers HAProxy routes to now, from its stats socket. */
async function serversUp (socket: string): Promise<string[]> {
  const csv = await new Promise<string>((resolve, reject) => {
    let text = ''
    const connection = net.connect(socket, () => { connection.end('show stat\n') })
    connection.setEncoding('utf8')
    connection.on('data', chunk => { text += chunk })
    connection.on('end', () => { resolve(text) })
    connection.on('error', reject)
  })
  const [header, ...rows] = csv.replace(/^# /, '').trim().split('\n')
  const columns = (header ?? '').split(',')
  const name = columns.indexOf('svname')
  const status = columns.indexOf('status')
  return rows.map(row => row.split(','))
    .filter(cells => cells[status] === 'UP' && cells[name] !== 'FRONTEND' && cells[name] !== 'BACKEND')
    .map(cells => cells[name] ?? '')
}
