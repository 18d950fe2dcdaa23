/**
 * startPostgresHa: Patroni with etcd and HAProxy on ports found free. A primary and a
 * synchronous standby; a write through HAProxy; the primary killed hard (Patroni and
 * postmaster, SIGKILL) and writes through HAProxy working again on the new primary, with the
 * acknowledged rows kept; the old primary rejoining; a second start reusing the data.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pg from 'pg'
import t from 'tap'
import { startPostgresHa, type PostgresHa, type PostgresHaOptions } from '../src/ha/index.ts'
import { findFreePorts, pollUntil } from '../src/ha/waiting.ts'
import { processesUnder } from './processes.ts'

t.setTimeout(480_000)

// Under /var/tmp rather than a private /tmp: the postgres user must reach its directories.
const baseDir = await mkdtemp(path.join(process.getuid?.() === 0 ? '/var/tmp' : tmpdir(), 'ha-postgres-'))
const [port, etcdClient, etcdPeer, pg1, pg2, rest1, rest2] = await findFreePorts(7) as [number, number, number, number, number, number, number]
const output: string[] = []
const options: PostgresHaOptions = {
  baseDir,
  port,
  etcdPorts: { client: etcdClient, peer: etcdPeer },
  pgPorts: [pg1, pg2],
  restPorts: [rest1, rest2],
  onLog: (source, line) => { output.push(`${source} | ${line}`) }
}

let ha: PostgresHa | undefined
t.teardown(async () => {
  await ha?.stop()
  await rm(baseDir, { recursive: true, force: true })
})
t.afterEach(async t => { if (t.passing() === false) t.comment(output.slice(-60).join('\n')) })

function seconds (since: number): string { return ((Date.now() - since) / 1000).toFixed(1) }

async function query<T extends pg.QueryResultRow> (url: string, sql: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000, query_timeout: 5_000 })
  client.on('error', () => {})
  try {
    await client.connect()
    return (await client.query<T>(sql, values)).rows
  } finally {
    await client.end().catch(() => {})
  }
}

async function notes (url: string): Promise<string[]> {
  return (await query<{ note: string }>(url, 'SELECT note FROM ha_probe ORDER BY id')).map(row => row.note)
}

const started = Date.now()
ha = await startPostgresHa(options)
t.comment(`etcd, 2 Patroni members (bootstrap and a copy) and HAProxy ready in ${seconds(started)} s`)

t.test('one primary and one synchronous standby', async t => {
  const roles = (await ha!.clusterStatus()).map(member => member.role).sort()
  t.same(roles, ['leader', 'sync_standby'])
})

t.test('a write through HAProxy lands on the primary and reaches the standby', async t => {
  await query(ha!.databaseUrl, 'CREATE TABLE ha_probe (id serial PRIMARY KEY, note text NOT NULL)')
  await query(ha!.databaseUrl, 'INSERT INTO ha_probe (note) VALUES ($1)', ['first write'])
  const [where] = await query<{ port: number, standby: boolean }>(ha!.databaseUrl, 'SELECT inet_server_port() AS port, pg_is_in_recovery() AS standby')
  const primary = await ha!.primary()
  t.same(where, { port: primary.pgPort, standby: false })
  const standby = ha!.members.find(member => member !== primary)!
  const standbyUrl = ha!.databaseUrl.replace(`:${options.port}/`, `:${standby.pgPort}/`)
  const onStandby = await pollUntil('the row on the standby', async () => {
    const rows = await notes(standbyUrl)
    return rows.length > 0 ? rows : undefined
  }, { timeoutMs: 10_000 })
  t.same(onStandby, ['first write'])
})

t.test('after a hard kill of the primary, writes through HAProxy work again on the new primary and the old one rejoins', async t => {
  await query(ha!.databaseUrl, 'INSERT INTO ha_probe (note) VALUES ($1)', ['acknowledged before the kill'])
  const killedAt = Date.now()
  const victim = await ha!.killPrimaryHard()
  const killSeconds = seconds(killedAt)
  await pollUntil('a write through HAProxy', async () => {
    await query(ha!.databaseUrl, 'INSERT INTO ha_probe (note) VALUES ($1)', ['after the failover'])
    return true
  }, { timeoutMs: 60_000, intervalMs: 200 })
  const failoverMs = Date.now() - killedAt
  t.comment(`killed ${victim.name} in ${killSeconds} s; first write through HAProxy ${(failoverMs / 1000).toFixed(1)} s after the kill`)
  t.ok(failoverMs < 30_000, `writes work again within 30 s (${(failoverMs / 1000).toFixed(1)} s)`)
  t.not((await ha!.primary()).name, victim.name, 'another member is primary')
  t.same(await notes(ha!.databaseUrl), ['first write', 'acknowledged before the kill', 'after the failover'], 'no acknowledged write is lost')

  const restartedAt = Date.now()
  await victim.restart()
  await ha!.waitUntilHealthy(90_000)
  t.comment(`${victim.name} rejoined as a streaming standby ${seconds(restartedAt)} s after its restart`)
  const roles = Object.fromEntries((await ha!.clusterStatus()).map(member => [member.name, member.role]))
  t.equal(roles[victim.name], 'sync_standby', 'the old primary is the synchronous standby now')
})

t.test('stop leaves no process behind, and a second start reuses the data', async t => {
  const stoppingAt = Date.now()
  await ha!.stop()
  t.comment(`stopped in ${seconds(stoppingAt)} s`)
  t.same(await processesUnder(baseDir), [], 'no Patroni, postgres, etcd or HAProxy process left')

  const restartedAt = Date.now()
  ha = await startPostgresHa(options)
  t.comment(`second start (data reused) ready in ${seconds(restartedAt)} s`)
  t.same(await notes(ha.databaseUrl), ['first write', 'acknowledged before the kill', 'after the failover'])
})
