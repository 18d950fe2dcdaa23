import t from 'tap'
import { sql } from 'kysely'
import { createDatabase, createServiceInstance, registerServiceBasics } from '@orders/platform'

// What a failover shows the services, answered as an outage (503, Retry-After, nothing changed)
// rather than as a bug (500): the errors are real ones from PostgreSQL, not made up.
t.test('a write that meets a read-only server (the old primary during a failover) is 503, not 500', async t => {
  const db = createDatabase({ connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres', poolSize: 1, applicationName: 'unavailable-test' })
  t.teardown(async () => { await db.destroy() })
  const app = createServiceInstance({ service: 'unavailable-test', logLevel: 'silent' })
  await registerServiceBasics(app, { title: 'unavailable-test', description: 'test', readiness: {} })
  // A standby refuses every write with 25006 ("cannot execute … in a read-only transaction").
  app.post('/write', { config: { public: true } }, async () => await db.transaction().execute(async trx => {
    await sql`set transaction read only`.execute(trx)
    await sql`create temporary table never_made (id int)`.execute(trx)
    return { written: true }
  }))
  await app.ready()
  t.teardown(async () => { await app.close() })

  const res = await app.inject({ method: 'POST', url: '/write' })
  t.equal(res.statusCode, 503)
  t.equal(res.headers['retry-after'], '1')
  t.match(res.json(), { statusCode: 503, message: /database is unavailable; nothing was changed/ })
})
