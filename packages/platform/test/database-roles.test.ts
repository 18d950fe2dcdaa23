/**
 * Least privilege in PostgreSQL: each service's role owns its own schema and everything in it,
 * may do nothing elsewhere, and is no superuser. Against the real server, on a database (and
 * roles) of this test's own.
 */
import t, { type Test } from 'tap'
import { sql, type Kysely } from 'kysely'
import pg from 'pg'
import { createTestDatabase, MIGRATIONS_DIR, type TestDatabase } from '@orders/test-support'
import { databaseCredentials, ensureServiceRoles, migrateDatabase, serviceDatabaseUrls } from '../src/index.ts'

const database = await createTestDatabase()
t.teardown(async () => { await database.drop() })

const deniedTo = async (t: Test, db: Kysely<any>, statement: ReturnType<typeof sql>) =>
  await t.rejects(statement.execute(db), { code: '42501', message: /permission denied/ })

t.test("the order-service's and the processor's roles cannot read the signing keys; the user-service's cannot read the orders", async t => {
  for (const account of ['order-service', 'order-processor'] as const) {
    await deniedTo(t, database.as(account), sql`select private_key from users.signing_keys`)
    await deniedTo(t, database.as(account), sql`select email from users.accounts`)
  }
  await deniedTo(t, database.as('user-service'), sql`select * from orders.orders`)
  await deniedTo(t, database.as('user-service'), sql`select * from processor.payments`)
  await deniedTo(t, database.as('order-processor'), sql`select * from orders.orders`)
  await deniedTo(t, database.as('order-service'), sql`select * from processor.payments`)
  // Nor write there, nor make room for themselves elsewhere.
  await deniedTo(t, database.as('order-service'), sql`delete from users.signing_keys`)
  await deniedTo(t, database.as('order-service'), sql`create schema sneaky`)
  await deniedTo(t, database.as('order-service'), sql`create table public.sneaky (x int)`)
})

t.test('each role reads and writes its own schema', async t => {
  const own = [
    ['user-service', sql`select count(*)::int as n from users.signing_keys`],
    ['order-service', sql`select count(*)::int as n from orders.outbox`],
    ['order-processor', sql`select count(*)::int as n from processor.payments`]
  ] as const
  for (const [account, query] of own) t.same((await query.execute(database.as(account))).rows, [{ n: 0 }], `${account} reads its tables`)
  const db = database.as('order-service')
  await sql`insert into orders.outbox (id, exchange, routing_key, payload, headers) values (gen_random_uuid(), 'orders.events', 'x', '{}', '{}')`.execute(db)
  t.same((await sql`delete from orders.outbox returning routing_key`.execute(db)).rows, [{ routing_key: 'x' }], 'and writes them')
})

t.test('no role is a superuser or holds any attribute but LOGIN', async t => {
  const roles = Object.values(database.serviceUrls).map(url => databaseCredentials(url).role)
  const { rows } = await sql<Record<string, unknown>>`
    select rolname, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, rolcanlogin
      from pg_roles where rolname in (${sql.join(roles)}) order by rolname`.execute(database.db)
  t.equal(rows.length, 3)
  for (const row of rows) t.match(row, { rolsuper: false, rolcreatedb: false, rolcreaterole: false, rolreplication: false, rolbypassrls: false, rolcanlogin: true }, String(row.rolname))
})

t.test('a table a later migration adds belongs to its schema\'s role, and to nobody else', async t => {
  // A migration runs as the admin; the migrate step hands what it made to the schema's role.
  await sql`create table users.added_later (id int primary key generated always as identity, note text)`.execute(database.db)
  await sql`create type users.mood as enum ('calm', 'busy')`.execute(database.db)
  await migrateDatabase({ adminUrl: database.url, serviceUrls: database.serviceUrls, migrationsDir: MIGRATIONS_DIR })
  const users = database.as('user-service')
  await sql`insert into users.added_later (note) values ('mine')`.execute(users)
  t.same((await sql`select note from users.added_later`.execute(users)).rows, [{ note: 'mine' }])
  await deniedTo(t, database.as('order-service'), sql`select * from users.added_later`)
  const { rows } = await sql<{ object: string, owner: string }>`
    select c.relname as object, pg_get_userbyid(c.relowner) as owner from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'users'
    union all select t.typname, pg_get_userbyid(t.typowner) from pg_type t join pg_namespace n on n.oid = t.typnamespace where n.nspname = 'users' and t.typtype = 'e'
    union all select nspname, pg_get_userbyid(nspowner) from pg_namespace where nspname = 'users'`.execute(database.db)
  const role = databaseCredentials(database.serviceUrls['user-service']).role
  t.same(rows.filter(row => row.owner !== role), [], 'the schema and everything in it (tables, indexes, sequences, types) are the user-service role\'s')
})

t.test('only the services\' roles may connect: PUBLIC lost CONNECT and TEMP', async t => {
  const { rows } = await sql<{ grantee: string, privilege: string }>`
    select coalesce(pg_get_userbyid(nullif(acl.grantee, 0)), 'PUBLIC') as grantee, acl.privilege_type as privilege
      from pg_database d, aclexplode(d.datacl) acl where d.datname = current_database()`.execute(database.db)
  t.same(rows.filter(row => row.grantee === 'PUBLIC'), [])
  const roles = Object.values(database.serviceUrls).map(url => databaseCredentials(url).role)
  for (const role of roles) t.ok(rows.some(row => row.grantee === role && row.privilege === 'CONNECT'), `${role} may connect`)
})

t.test('the migrate step refuses a role that is the admin, or one shared by two services, and keeps a password no URL gives', async t => {
  const adminRole = databaseCredentials(database.url).role
  const asAdmin = { ...database.serviceUrls, 'order-processor': database.url }
  await t.rejects(ensureServiceRoles(database.db, asAdmin), /order-processor's database role is postgres, the admin/)
  const shared = { ...database.serviceUrls, 'order-processor': database.serviceUrls['order-service'] }
  await t.rejects(ensureServiceRoles(database.db, shared), /would share the database role/)
  t.equal(adminRole, 'postgres')

  const role = databaseCredentials(database.serviceUrls['user-service']).role
  const password = async () => (await sql<{ p: string }>`select rolpassword as p from pg_authid where rolname = ${role}`.execute(database.db)).rows[0]?.p
  const before = await password()
  t.match(before, /^SCRAM-SHA-256\$/, 'the password of its URL, stored hashed')
  const withoutPasswords = serviceDatabaseUrls(database.url, { rolePrefix: `${database.name}_` })
  const reports = await ensureServiceRoles(database.db, withoutPasswords)
  t.same(reports.map(r => r.created), [false, false, false], 'the roles exist already: updated')
  t.equal(await password(), before, 'a URL without a password leaves the role\'s as it was')
})

t.test('parallel runs get roles of their own, and leave none behind', async t => {
  const [one, two] = await Promise.all([createTestDatabase(), createTestDatabase()]) as [TestDatabase, TestDatabase]
  const roles = (d: TestDatabase) => Object.values(d.serviceUrls).map(url => databaseCredentials(url).role)
  t.equal(new Set([...roles(one), ...roles(two)]).size, 6, 'six distinct roles')
  await sql`insert into orders.outbox (id, exchange, routing_key, payload, headers) values (gen_random_uuid(), 'e', 'one', '{}', '{}')`.execute(one.as('order-service'))
  t.same((await sql`select routing_key from orders.outbox`.execute(two.as('order-service'))).rows, [], 'one run never sees the other\'s rows')
  // Nor may one run's role connect to the other's database at all.
  const intruder = new URL(one.url)
  const { role, password } = databaseCredentials(two.serviceUrls['order-service'])
  intruder.username = role
  intruder.password = password ?? ''
  const client = new pg.Client({ connectionString: intruder.toString() })
  await t.rejects(client.connect(), { code: '42501', message: /permission denied for database/ })
  await client.end().catch(() => {})
  await Promise.all([one.drop(), two.drop()])
  const { rows } = await sql`select rolname from pg_roles where rolname like ${`${one.name}%`} or rolname like ${`${two.name}%`}`.execute(database.db)
  t.same(rows, [], 'dropping a database drops its roles')
})
