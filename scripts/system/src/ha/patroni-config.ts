/**
 * What Patroni needs on disk: one configuration per member, and the cluster's passwords, made
 * once and kept in `baseDir` (the data directories were initialised with them, so a second
 * start must use the same). Patroni reads YAML; JSON is YAML, so no YAML writer is needed.
 */
import { randomBytes } from 'node:crypto'
import { chmod, chown, mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'

export const POSTGRES_BIN_DIR = '/usr/lib/postgresql/15/bin'

export interface Credentials { superuser: string, replication: string }

export interface MemberLayout { name: string, pgPort: number, restPort: number, dir: string, dataDir: string }

/** Patroni and PostgreSQL refuse to run as root: when we are root they run as `postgres`. */
export interface RunAs { uid: number, gid: number }

export async function postgresUser (): Promise<RunAs | undefined> {
  if (process.getuid?.() !== 0) return undefined
  const entry = (await readFile('/etc/passwd', 'utf8')).split('\n').find(line => line.startsWith('postgres:'))
  const [, , uid, gid] = entry?.split(':') ?? []
  if (uid === undefined || gid === undefined) throw new Error('running as root, but there is no postgres user to run Patroni and PostgreSQL as (install postgresql-15)')
  return { uid: Number(uid), gid: Number(gid) }
}

export async function loadCredentials (baseDir: string): Promise<Credentials> {
  const file = path.join(baseDir, 'credentials.json')
  const existing = await readFile(file, 'utf8').catch(() => undefined)
  if (existing !== undefined) return JSON.parse(existing) as Credentials
  // An empty superuser password makes Patroni's bootstrap fail.
  const credentials: Credentials = { superuser: randomBytes(12).toString('hex'), replication: randomBytes(12).toString('hex') }
  await writeFile(file, JSON.stringify(credentials, null, 2) + '\n', { mode: 0o600 })
  return credentials
}

export interface PatroniSettings {
  scope: string
  etcdClientPort: number
  credentials: Credentials
  runAs: RunAs | undefined
}

/** Writes <dir>/patroni.yml, readable only by the user Patroni runs as (it holds passwords). */
export async function writeMemberConfig (member: MemberLayout, settings: PatroniSettings): Promise<string> {
  await mkdir(member.dir, { recursive: true, mode: 0o700 })
  const file = path.join(member.dir, 'patroni.yml')
  await writeFile(file, JSON.stringify(memberConfig(member, settings), null, 2) + '\n', { mode: 0o600 })
  if (settings.runAs !== undefined) {
    await chown(member.dir, settings.runAs.uid, settings.runAs.gid)
    await chown(file, settings.runAs.uid, settings.runAs.gid)
  }
  await chmod(member.dir, 0o700)
  return file
}

function memberConfig (member: MemberLayout, { scope, etcdClientPort, credentials }: PatroniSettings): object {
  const pg = `127.0.0.1:${member.pgPort}`
  const rest = `127.0.0.1:${member.restPort}`
  return {
    scope,
    namespace: '/orders-ha/',
    name: member.name,
    restapi: { listen: rest, connect_address: rest },
    etcd3: { hosts: [`127.0.0.1:${etcdClientPort}`] },
    bootstrap: {
      dcs: {
        // Measured on 2 cores: a new primary ~9 s after the old one dies (doc/ha.md). Lower
        // values make a loaded machine's slow loop look like a dead leader.
        ttl: 10,
        loop_wait: 2,
        retry_timeout: 4,
        maximum_lag_on_failover: 1048576,
        // A commit is acknowledged only once the standby has it, so a failover loses none.
        synchronous_mode: true,
        postgresql: {
          use_pg_rewind: true,
          use_slots: true,
          parameters: {
            wal_level: 'replica',
            hot_standby: 'on',
            // pg_rewind (a demoted primary rejoining) needs hint bits in the WAL or data checksums.
            wal_log_hints: 'on',
            max_wal_senders: 5,
            max_replication_slots: 5,
            max_connections: 100
          }
        }
      },
      initdb: [{ encoding: 'UTF8' }, { locale: 'C.UTF-8' }, 'data-checksums']
    },
    postgresql: {
      listen: pg,
      connect_address: pg,
      data_dir: member.dataDir,
      bin_dir: POSTGRES_BIN_DIR,
      pgpass: path.join(member.dir, 'pgpass'),
      authentication: {
        superuser: { username: 'postgres', password: credentials.superuser },
        replication: { username: 'replicator', password: credentials.replication }
      },
      parameters: {
        // Our own socket directory: the machine's PostgreSQL owns /var/run/postgresql.
        unix_socket_directories: member.dir,
        shared_buffers: '32MB'
      },
      pg_hba: [
        'local all all trust',
        'host replication replicator 127.0.0.1/32 scram-sha-256',
        'host all all 127.0.0.1/32 scram-sha-256'
      ]
    }
  }
}
