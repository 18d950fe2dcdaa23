/**
 * `pnpm migrate up|down|status` — applies, reverts (one step per schema) or lists the kysely
 * migrations in migrations/<schema>/ against DATABASE_URL, as an admin; `up` also creates or
 * updates each service's own role from its URL and gives it its schema (doc/security.md,
 * "Least privilege").
 * Exit status: 0 done, 1 a migration failed, 2 bad usage, 3 PostgreSQL unreachable.
 */
import { fileURLToPath } from 'node:url'
import { readCommandLine } from '@orders/platform/command-line'

// Written out rather than imported, so that --help and usage errors answer before the
// platform's modules (pg, kysely, typebox) are loaded.
const SCHEMAS = ['users', 'orders', 'processor'] as const
const USAGE = `usage: pnpm migrate up|down|status [schema...]   (schemas: ${SCHEMAS.join(', ')})

  up       apply every pending migration (creates the database if missing), after creating or
           updating each service's own role; each role then owns its schema and all in it
  down     revert the latest migration of each schema named (every schema when none is)
  status   list every migration, applied (when) or pending

Reads DATABASE_URL, an admin's (a superuser; default postgres://postgres@127.0.0.1:5432/order_platform),
and for \`up\` the services' own URLs, whose user and password name each role: USER_SERVICE_DATABASE_URL,
ORDER_SERVICE_DATABASE_URL, ORDER_PROCESSOR_DATABASE_URL (default: DATABASE_URL as user_service,
order_service, order_processor, without a password; a URL without one leaves the role's as it is).
Exit status: 0 done, 1 a migration failed, 2 bad usage, 3 PostgreSQL unreachable.`

const { command, args: schemaArgs } = readCommandLine(USAGE)
const unknown = schemaArgs.filter(s => !(SCHEMAS as readonly string[]).includes(s))
if (!command || !['up', 'down', 'status'].includes(command) || unknown.length > 0) {
  console.error(unknown.length > 0 ? `unknown schema: ${unknown.join(', ')}\n${USAGE}` : USAGE)
  process.exit(2)
}

/** Runs `work`; while it takes longer than a second, says what it is doing on stderr every second. */
async function withProgress<T> (what: () => string, work: Promise<T>): Promise<T> {
  const started = Date.now()
  const timer = setInterval(() => { console.error(`${what()} (${Math.round((Date.now() - started) / 1000)} s)`) }, 1_000)
  try {
    return await work
  } finally {
    clearInterval(timer)
  }
}

let step = 'loading the migration tools…'
const platform = await withProgress(() => step, import('@orders/platform'))
const { createDatabase, databaseUrlVariable, DependencyUnreachableError, loadConfig, migrateAllDown, migrateDatabase, migrationStatus, reachDatabase, SERVICE_SCHEMAS, serviceDatabaseUrls } = platform
const { SERVICE_ACCOUNTS } = await import('@orders/contracts')
const { Type } = await import('@sinclair/typebox')

const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations', import.meta.url))
const schemas = schemaArgs.length > 0 ? SERVICE_SCHEMAS.filter(s => schemaArgs.includes(s)) : SERVICE_SCHEMAS
const config = loadConfig(Type.Object({
  DATABASE_URL: Type.String({ default: 'postgres://postgres@127.0.0.1:5432/order_platform' }),
  ...Object.fromEntries(SERVICE_ACCOUNTS.map(account => [databaseUrlVariable(account), Type.Optional(Type.String())]))
})) as { DATABASE_URL: string } & Record<string, string | undefined>
const defaults = serviceDatabaseUrls(config.DATABASE_URL)
const serviceUrls = Object.fromEntries(SERVICE_ACCOUNTS.map(account => [account, config[databaseUrlVariable(account)] ?? defaults[account]])) as typeof defaults

try {
  step = 'connecting to PostgreSQL…'
  // The server first (its maintenance database): `up` may still have to create ours.
  await withProgress(() => step, reachDatabase(config.DATABASE_URL, { maintenanceDatabase: true }))
  if (command !== 'up') await reachDatabase(config.DATABASE_URL)
} catch (err) {
  console.error(err instanceof DependencyUnreachableError ? err.message : `cannot prepare the database: ${(err as Error).message}`)
  process.exit(3)
}

try {
  if (command === 'up') {
    step = 'creating the roles and applying migrations…'
    const report = await withProgress(() => step, migrateDatabase({ adminUrl: config.DATABASE_URL, serviceUrls, migrationsDir: MIGRATIONS_DIR, schemas }))
    if (report.createdDatabase) console.log('created the database of DATABASE_URL')
    for (const { account, role, created } of report.roles) console.log(`role ${role} (${account}): ${created ? 'created' : 'updated'}`)
    printResults(report.schemas)
  } else {
    await withDatabase(async db => {
      if (command === 'status') {
        step = 'reading the migrations…'
        for (const { schema, migrations } of await withProgress(() => step, migrationStatus(db, MIGRATIONS_DIR, schemas))) {
          for (const m of migrations) console.log(`${schema.padEnd(8)} ${m.executedAt ? 'applied ' + m.executedAt.toISOString() : 'pending'.padEnd(32)}  ${m.name}`)
        }
      } else {
        step = 'reverting migrations…'
        printResults(await withProgress(() => step, migrateAllDown(db, MIGRATIONS_DIR, schemas)))
      }
    })
  }
} catch (err) {
  console.error((err as Error).message)
  process.exitCode = 1
}

async function withDatabase (work: (db: ReturnType<typeof createDatabase<any>>) => Promise<void>): Promise<void> {
  const db = createDatabase<any>({ connectionString: config.DATABASE_URL, poolSize: 1, applicationName: 'migrate' })
  try {
    await work(db)
  } finally {
    await db.destroy()
  }
}

function printResults (reports: Awaited<ReturnType<typeof migrateAllDown>>): void {
  for (const { schema, results } of reports) {
    if (results.length === 0) console.log(`${schema}: nothing to do`)
    for (const r of results) console.log(`${schema}: ${r.direction === 'Up' ? 'applied' : 'reverted'} ${r.migrationName}`)
  }
}
