import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { Kysely, PostgresDialect, sql } from 'kysely'
import pg from 'pg'
import { SERVICE_ACCOUNTS, type ServiceAccount } from '@orders/contracts'
import { createDatabase, databaseCredentials, migrateDatabase, serviceDatabaseUrls, type ServiceDatabaseUrls } from '@orders/platform'
import { resolveServiceUrls } from './services.ts'

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../migrations', import.meta.url))

export interface TestDatabase {
  name: string
  /** As the server's admin (a superuser): the migrations, and assertions that look across schemas. */
  url: string
  /**
   * Each service's own role on this database, as its processes connect (DATABASE_URL): named
   * after the database, so parallel runs never share one, and dropped with it.
   */
  serviceUrls: ServiceDatabaseUrls
  /** A kysely handle as the admin, for assertions; closed by `drop()`. */
  db: Kysely<any>
  /** A kysely handle as one service's own role: what the service under test connects as. Closed by `drop()`. */
  as: (account: ServiceAccount) => Kysely<any>
  /** Drops the database and its roles. */
  drop: () => Promise<void>
}

/**
 * A database of its own for one test file: created and migrated as `pnpm migrate up` does it
 * (the services' roles included), and dropped afterwards with its roles, so parallel test runs
 * on one server never see each other and leave nothing behind. `migrate: false` leaves both
 * to the caller's migrate step (the launcher's), with the same role names.
 */
export async function createTestDatabase (options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const { databaseUrl } = await resolveServiceUrls()
  const name = `test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`
  const admin = adminConnection(databaseUrl)
  await sql`create database ${sql.id(name)}`.execute(admin)
  await admin.destroy()

  const url = withDatabase(databaseUrl, name)
  const passwords = Object.fromEntries(SERVICE_ACCOUNTS.map(account => [account, randomBytes(12).toString('hex')]))
  const serviceUrls = serviceDatabaseUrls(url, { rolePrefix: `${name}_`, passwords })
  if (options.migrate !== false) await migrateDatabase({ adminUrl: url, serviceUrls, migrationsDir: MIGRATIONS_DIR, applicationName: 'test-migrate' })
  const db = createDatabase<any>({ connectionString: url, poolSize: 5 })
  const handles = new Map<ServiceAccount, Kysely<any>>()

  return {
    name,
    url,
    serviceUrls,
    db,
    as (account) {
      let handle = handles.get(account)
      if (handle === undefined) {
        handle = createDatabase<any>({ connectionString: serviceUrls[account], poolSize: 5, applicationName: `test-${account}` })
        handles.set(account, handle)
      }
      return handle
    },
    async drop () {
      await Promise.all([db, ...handles.values()].map(async handle => { await handle.destroy() }))
      const admin = adminConnection(databaseUrl)
      try {
        await sql`drop database if exists ${sql.id(name)} with (force)`.execute(admin)
        // Roles belong to the whole server: they go once the database holding their objects has gone.
        for (const account of SERVICE_ACCOUNTS) await sql`drop role if exists ${sql.id(databaseCredentials(serviceUrls[account]).role)}`.execute(admin)
      } finally {
        await admin.destroy()
      }
    }
  }
}

function adminConnection (databaseUrl: string): Kysely<any> {
  return new Kysely({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: databaseUrl, max: 1 }) }) })
}

function withDatabase (databaseUrl: string, name: string): string {
  const url = new URL(databaseUrl)
  url.pathname = `/${name}`
  return url.toString()
}
