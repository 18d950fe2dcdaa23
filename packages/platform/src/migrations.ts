import { promises as fs } from 'node:fs'
import path from 'node:path'
import type { Kysely } from 'kysely'
import { FileMigrationProvider, Migrator, type MigrationResultSet } from 'kysely/migration'
import { SERVICE_ACCOUNTS } from '@orders/contracts'
import { createDatabase, ensureDatabaseExists } from './database.ts'
import { ACCOUNT_SCHEMAS, ensureServiceRoles, giveSchemasToRoles, type RoleReport, type ServiceDatabaseUrls } from './database-roles.ts'

/**
 * Each service owns one PostgreSQL schema, and each schema has its own folder of kysely
 * migrations (`migrations/<schema>/NNNN_name.ts`) and its own bookkeeping table inside the
 * schema, so services migrate independently. Applied in this order, reverted in reverse.
 */
export const SERVICE_SCHEMAS = ['users', 'orders', 'processor'] as const
export type ServiceSchema = (typeof SERVICE_SCHEMAS)[number]

export function createSchemaMigrator (db: Kysely<any>, migrationsDir: string, schema: string): Migrator {
  return new Migrator({
    db,
    provider: new FileMigrationProvider({ fs, path, migrationFolder: path.join(migrationsDir, schema) }),
    migrationTableSchema: schema
  })
}

export interface SchemaMigrationReport {
  schema: string
  results: NonNullable<MigrationResultSet['results']>
}

async function run (schema: string, action: () => Promise<MigrationResultSet>): Promise<SchemaMigrationReport> {
  const { error, results } = await action()
  if (error) {
    const failed = results?.find(r => r.status === 'Error')
    throw new Error(`migration of schema "${schema}" failed${failed ? ` at ${failed.migrationName}` : ''}: ${(error as Error).message ?? String(error)}`, { cause: error })
  }
  return { schema, results: results ?? [] }
}

export async function migrateAllToLatest (db: Kysely<any>, migrationsDir: string, schemas: readonly string[] = SERVICE_SCHEMAS): Promise<SchemaMigrationReport[]> {
  const reports = []
  for (const schema of schemas) {
    reports.push(await run(schema, async () => await createSchemaMigrator(db, migrationsDir, schema).migrateToLatest()))
  }
  return reports
}

/** Reverts the latest migration of each given schema, in reverse order of the schemas. */
export async function migrateAllDown (db: Kysely<any>, migrationsDir: string, schemas: readonly string[] = SERVICE_SCHEMAS): Promise<SchemaMigrationReport[]> {
  const reports = []
  for (const schema of [...schemas].reverse()) {
    reports.push(await run(schema, async () => await createSchemaMigrator(db, migrationsDir, schema).migrateDown()))
  }
  return reports
}

export async function migrationStatus (db: Kysely<any>, migrationsDir: string, schemas: readonly string[] = SERVICE_SCHEMAS) {
  const status = []
  for (const schema of schemas) {
    const migrations = await createSchemaMigrator(db, migrationsDir, schema).getMigrations()
    status.push({ schema, migrations: migrations.map(m => ({ name: m.name, executedAt: m.executedAt ?? null })) })
  }
  return status
}

export interface DatabaseMigrationOptions {
  /** As an admin (a superuser): creates the database and the roles, applies the migrations. Nothing else connects with it. */
  adminUrl: string
  /** Each account's own DATABASE_URL: its role is created or updated, and made the owner of its schema and all in it. */
  serviceUrls: ServiceDatabaseUrls
  migrationsDir: string
  /** Default: every schema. Only these schemas' migrations and roles. */
  schemas?: readonly ServiceSchema[]
  applicationName?: string
}

export interface DatabaseMigrationReport {
  createdDatabase: boolean
  roles: RoleReport[]
  schemas: SchemaMigrationReport[]
}

/**
 * The migrate step of `pnpm migrate up`, `pnpm dev` and the tests, in one place: the database
 * if missing, each service's role (database-roles.ts), every pending migration, then each schema
 * and all in it given to its role. Run again, it changes only what has changed.
 */
export async function migrateDatabase (options: DatabaseMigrationOptions): Promise<DatabaseMigrationReport> {
  const schemas = options.schemas ?? SERVICE_SCHEMAS
  const accounts = SERVICE_ACCOUNTS.filter(account => schemas.includes(ACCOUNT_SCHEMAS[account]))
  const createdDatabase = await ensureDatabaseExists(options.adminUrl)
  const admin = createDatabase<any>({ connectionString: options.adminUrl, poolSize: 1, applicationName: options.applicationName ?? 'migrate' })
  try {
    const roles = await ensureServiceRoles(admin, options.serviceUrls, accounts)
    const reports = await migrateAllToLatest(admin, options.migrationsDir, schemas)
    await giveSchemasToRoles(admin, options.serviceUrls, accounts)
    return { createdDatabase, roles, schemas: reports }
  } finally {
    await admin.destroy()
  }
}
