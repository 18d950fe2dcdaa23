/**
 * PostgreSQL 15 managed by Patroni (Debian `patroni`) with etcd (Debian `etcd-server`), behind
 * HAProxy: a primary and synchronous standbys, on ports of our own, data under `baseDir`.
 * The machine's own PostgreSQL (5432, cluster 15/main) is never touched. A second start on the
 * same baseDir reuses the data (the cluster in etcd and each member's data directory).
 */
import { chmod, mkdir } from 'node:fs/promises'
import path from 'node:path'
import { ENGINE_STOP_GRACE_MS, type LogLine } from '../supervised-process.ts'
import { startEtcd } from './etcd.ts'
import { startWatchdog } from '../watchdog.ts'
import { loadCredentials, postgresUser, writeMemberConfig, type MemberLayout } from './patroni-config.ts'
import { clusterStatus, patroniMember, type ClusterMemberStatus, type MemberProcess, type PatroniMember } from './patroni-member.ts'
import { startPostgresHaproxy } from './postgres-haproxy.ts'
import { assertPortsFree, pollUntil } from './waiting.ts'

export interface PostgresHaOptions {
  /** Holds etcd's data, each member's configuration and data directory, the passwords. */
  baseDir: string
  /** PostgreSQL ports, one per member (default 5441, 5442). */
  pgPorts?: readonly number[]
  /** Patroni REST API ports, one per member (default 8441, 8442). */
  restPorts?: readonly number[]
  /** etcd client and peer ports (default 2389, 2390). */
  etcdPorts?: { client: number, peer: number }
  /** Where clients connect: HAProxy on 127.0.0.1 (default 5440). */
  port?: number
  /** The database in `databaseUrl` (default "postgres"). */
  database?: string
  haproxyPath?: string
  onLog?: LogLine
  /** A Patroni member died without being asked to; an orchestrator would restart it. */
  onUnexpectedExit?: (member: PatroniMember) => void
  /** For etcd, the bootstrap and a member's restart (default 180 s). */
  readyTimeoutMs?: number
}

export interface PostgresHa {
  /** postgres://postgres:…@127.0.0.1:<port>/<database>: through HAProxy, to the current primary. */
  databaseUrl: string
  /** The same credentials, another database. */
  databaseUrlFor: (database: string) => string
  members: PatroniMember[]
  /** The member that leads now (Patroni's view). */
  primary: () => Promise<PatroniMember>
  /** Patroni's /cluster: every member's role (leader, sync_standby, replica), state and lag. */
  clusterStatus: () => Promise<ClusterMemberStatus[]>
  /** SIGKILL to the primary's Patroni and postmaster; resolves with that member once both are gone. */
  killPrimaryHard: () => Promise<PatroniMember>
  /** Resolves once a primary runs, every member streams from it, one synchronously, and HAProxy routes to the primary. */
  waitUntilHealthy: (timeoutMs?: number) => Promise<void>
  /** HAProxy, the standbys, the primary, then etcd; no postgres process survives it. */
  stop: () => Promise<void>
}

export async function startPostgresHa (options: PostgresHaOptions): Promise<PostgresHa> {
  const pgPorts = options.pgPorts ?? [5441, 5442]
  const restPorts = options.restPorts ?? [8441, 8442]
  const etcdPorts = options.etcdPorts ?? { client: 2389, peer: 2390 }
  const port = options.port ?? 5440
  const log = options.onLog ?? (() => {})
  const readyTimeoutMs = options.readyTimeoutMs ?? 180_000
  if (restPorts.length !== pgPorts.length || pgPorts.length < 2) throw new Error('startPostgresHa: at least two members, with one REST port per PostgreSQL port')
  await assertPortsFree([
    { port, use: 'HAProxy for PostgreSQL' },
    { port: etcdPorts.client, use: 'etcd client' },
    { port: etcdPorts.peer, use: 'etcd peer' },
    ...pgPorts.map((pgPort, i) => ({ port: pgPort, use: `PostgreSQL pg${i + 1}` })),
    ...restPorts.map((restPort, i) => ({ port: restPort, use: `Patroni REST pg${i + 1}` }))
  ], 'Is another `pnpm dev --ha` or HA test running? Stop it, or pass other ports.')

  const baseDir = path.resolve(options.baseDir)
  await mkdir(baseDir, { recursive: true })
  // The postgres user must reach its member directories inside.
  await chmod(baseDir, 0o755)
  const runAs = await postgresUser()
  const credentials = await loadCredentials(baseDir)
  const watchdog = startWatchdog({ graceMs: ENGINE_STOP_GRACE_MS })
  const layouts: MemberLayout[] = pgPorts.map((pgPort, i) => {
    const dir = path.join(baseDir, `pg${i + 1}`)
    return { name: `pg${i + 1}`, pgPort, restPort: restPorts[i] ?? 0, dir, dataDir: path.join(dir, 'data') }
  })
  const members: MemberProcess[] = []
  const status = async (): Promise<ClusterMemberStatus[]> => await clusterStatus(layouts.map(layout => layout.restPort))
  let etcd: Awaited<ReturnType<typeof startEtcd>> | undefined
  let haproxy: Awaited<ReturnType<typeof startPostgresHaproxy>> | undefined

  const stop = async (): Promise<void> => {
    await haproxy?.engine.stop({ graceMs: 5_000 })
    const leader = (await status().catch(() => [])).find(member => member.role === 'leader')?.name
    // The standbys first: stopping the primary first would let a standby take over just before it stops too.
    await Promise.all(members.filter(member => member.name !== leader).map(async member => { await member.stop() }))
    await Promise.all(members.filter(member => member.name === leader).map(async member => { await member.stop() }))
    await etcd?.stop({ graceMs: 10_000 })
    await watchdog.close()
  }

  const waitUntilHealthy = async (timeoutMs = readyTimeoutMs): Promise<void> => {
    const leader = await pollUntil('a primary with every standby streaming, one synchronously', async () => {
      const current = await status()
      const primary = current.find(member => member.role === 'leader' && member.state === 'running')
      const standbys = current.filter(member => member !== primary)
      const streaming = standbys.every(member => ['sync_standby', 'replica'].includes(member.role) && ['running', 'streaming'].includes(member.state))
      const synchronous = standbys.some(member => member.role === 'sync_standby')
      return primary !== undefined && current.length === layouts.length && streaming && synchronous ? primary.name : undefined
    }, { timeoutMs })
    await pollUntil(`HAProxy routing to ${leader} only`, async () => {
      const up = await haproxy?.serversUp()
      return up?.length === 1 && up[0] === leader ? true : undefined
    }, { timeoutMs: 15_000 })
  }

  try {
    etcd = await startEtcd({ dir: path.join(baseDir, 'etcd'), clientPort: etcdPorts.client, peerPort: etcdPorts.peer, log, watchdog, readyTimeoutMs })
    for (const layout of layouts) {
      const configFile = await writeMemberConfig(layout, { scope: 'orders', etcdClientPort: etcdPorts.client, credentials, runAs })
      members.push(patroniMember(layout, { configFile, runAs, log, watchdog, readyTimeoutMs, onUnexpectedExit: options.onUnexpectedExit }))
    }
    log('ha', `starting Patroni members ${layouts.map(layout => layout.name).join(', ')} in ${baseDir}`)
    // All at once: on a first start one wins the race to initialise, the others copy it.
    for (const member of members) member.start()
    haproxy = await startPostgresHaproxy({ baseDir, port, backends: layouts, haproxyPath: options.haproxyPath ?? '/usr/sbin/haproxy', log, watchdog })
    await waitUntilHealthy()
    log('ha', `PostgreSQL ready through HAProxy on 127.0.0.1:${port}`)
  } catch (err) {
    const details = members.map(member => `${member.name}:\n  ${member.lastLines(10).join('\n  ')}`).join('\n')
    await stop()
    throw new Error(`${(err as Error).message}\nlast output of the members:\n${details}`)
  }

  const databaseUrlFor = (database: string): string =>
    `postgres://postgres:${encodeURIComponent(credentials.superuser)}@127.0.0.1:${port}/${encodeURIComponent(database)}`
  const primary = async (): Promise<PatroniMember> => {
    const leader = (await status()).find(member => member.role === 'leader')
    const found = members.find(member => member.name === leader?.name)
    if (found === undefined) throw new Error('no primary now')
    return found
  }
  return {
    databaseUrl: databaseUrlFor(options.database ?? 'postgres'),
    databaseUrlFor,
    members,
    primary,
    clusterStatus: status,
    killPrimaryHard: async () => {
      const victim = await primary()
      log('ha', `killing the primary ${victim.name} (Patroni and postmaster, SIGKILL)`)
      await victim.killHard()
      return victim
    },
    waitUntilHealthy,
    stop
  }
}
