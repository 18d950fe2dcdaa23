import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { Kysely, PostgresDialect, sql } from 'kysely'
import pg from 'pg'
import { createDatabase, migrateAllToLatest } from '@orders/platform'
import { resolveServiceUrls } from './services.ts'

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../migrations', import.meta.url))

export interface TestDatabase {
  name: string
  url: string
  /** A kysely handle for assertions; closed by `drop()`. */
  db: Kysely<any>
  drop: () => Promise<void>
}

/**
 * A database of its own for one test file: created, migrated like `pnpm migrate up`,
 * and dropped afterwards, so parallel test runs on one server never see each other.
 */
export async function createTestDatabase (options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const { databaseUrl } = await resolveServiceUrls()
  const name = `test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`
  const admin = adminConnection(databaseUrl)
  await sql`create database ${sql.id(name)}`.execute(admin)
  await admin.destroy()

  const url = withDatabase(databaseUrl, name)
  const db = createDatabase<any>({ connectionString: url, poolSize: 5 })
  if (options.migrate !== false) await migrateAllToLatest(db, MIGRATIONS_DIR)

  return {
    name,
    url,
    db,
    async drop () {
      await db.destroy()
      const admin = adminConnection(databaseUrl)
      await sql`drop database if exists ${sql.id(name)} with (force)`.execute(admin)
      await admin.destroy()
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
