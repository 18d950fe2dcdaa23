/**
 * `pnpm migrate up|down|status` — applies, reverts (one step per schema) or lists the kysely
 * migrations in migrations/<schema>/ against DATABASE_URL.
 */
import { fileURLToPath } from 'node:url'
import { Type } from '@sinclair/typebox'
import { createDatabase, ensureDatabaseExists, loadConfig, migrateAllDown, migrateAllToLatest, migrationStatus, SERVICE_SCHEMAS } from '@orders/platform'

const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations', import.meta.url))
const usage = 'usage: pnpm migrate up|down|status [schema...]   (schemas: ' + SERVICE_SCHEMAS.join(', ') + ')'

const [command, ...schemaArgs] = process.argv.slice(2)
const unknown = schemaArgs.filter(s => !(SERVICE_SCHEMAS as readonly string[]).includes(s))
if (!command || !['up', 'down', 'status'].includes(command) || unknown.length > 0) {
  console.error(unknown.length > 0 ? `unknown schema: ${unknown.join(', ')}\n${usage}` : usage)
  process.exit(2)
}
const schemas = schemaArgs.length > 0 ? SERVICE_SCHEMAS.filter(s => schemaArgs.includes(s)) : SERVICE_SCHEMAS

const config = loadConfig(Type.Object({ DATABASE_URL: Type.String({ default: 'postgres://postgres@127.0.0.1:5432/order_platform' }) }))
if (command === 'up' && await ensureDatabaseExists(config.DATABASE_URL)) console.log('created the database of DATABASE_URL')
const db = createDatabase<any>({ connectionString: config.DATABASE_URL, poolSize: 1, applicationName: 'migrate' })
try {
  if (command === 'status') {
    for (const { schema, migrations } of await migrationStatus(db, MIGRATIONS_DIR, schemas)) {
      for (const m of migrations) console.log(`${schema.padEnd(8)} ${m.executedAt ? 'applied ' + m.executedAt.toISOString() : 'pending'.padEnd(32)}  ${m.name}`)
    }
  } else {
    const reports = command === 'up'
      ? await migrateAllToLatest(db, MIGRATIONS_DIR, schemas)
      : await migrateAllDown(db, MIGRATIONS_DIR, schemas)
    for (const { schema, results } of reports) {
      if (results.length === 0) console.log(`${schema}: nothing to do`)
      for (const r of results) console.log(`${schema}: ${r.direction === 'Up' ? 'applied' : 'reverted'} ${r.migrationName}`)
    }
  }
} catch (err) {
  console.error((err as Error).message)
  process.exitCode = 1
} finally {
  await db.destroy()
}
