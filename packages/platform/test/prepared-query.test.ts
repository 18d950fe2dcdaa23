import t from 'tap'
import { sql } from 'kysely'
import { createDatabase, namedStatementFor, prepareQuery } from '@orders/platform'
import { createTestDatabase } from '@orders/test-support'

t.test('a prepared query', async t => {
  const database = await createTestDatabase({ migrate: false })
  t.teardown(async () => { await database.drop() })
  const { db } = database
  await sql`create table notes (id int primary key, body jsonb not null, at timestamptz not null, tag text)`.execute(db)
  const insert = prepareQuery(['id', 'body', 'at', 'tag'], values => db.insertInto('notes')
    .values({ id: values.id, body: sql`${values.body}::jsonb`, at: values.at, tag: values.tag })
    .onConflict(oc => oc.column('id').doNothing())
    .returning(['id', 'tag']))

  t.test('runs with each call\'s values, as the same query built with them would', async t => {
    const at = new Date('2030-01-02T03:04:05.678Z')
    t.same((await insert(db, { id: 1, body: '{"a": 1}', at, tag: 'first' })).rows, [{ id: 1, tag: 'first' }])
    t.same((await insert(db, { id: 2, body: '{"b": 2}', at, tag: null })).rows, [{ id: 2, tag: null }])
    t.same((await insert(db, { id: 1, body: '{}', at, tag: 'again' })).rows, [], 'the conflict clause is part of it')
    const { rows } = await sql<{ id: number, body: unknown, at: Date }>`select id, body, at from notes order by id`.execute(db)
    t.same(rows, [{ id: 1, body: { a: 1 }, at }, { id: 2, body: { b: 2 }, at }])
  })

  t.test('is sent as a named statement: PostgreSQL parses and plans it once per connection', async t => {
    const oneConnection = createDatabase<any>({ connectionString: database.url, poolSize: 1 })
    t.teardown(async () => { await oneConnection.destroy() })
    const select = prepareQuery(['id'], values => oneConnection.selectFrom('notes').select('tag').where('id', '=', values.id))
    const name = namedStatementFor(oneConnection.selectFrom('notes').select('tag').where('id', '=', 1).compile().sql)
    t.ok(name, 'its text is registered under a name')
    for (let i = 0; i < 3; i++) t.same((await select(oneConnection, { id: 1 })).rows, [{ tag: 'first' }])
    const { rows } = await sql<{ name: string }>`select name from pg_prepared_statements`.execute(oneConnection)
    t.same(rows.map(row => row.name), [name], 'the connection holds it, prepared once, under that name')
    const { rows: [plain] } = await sql<{ tag: string }>`select tag from notes where id = ${2}`.execute(oneConnection)
    t.same(plain, { tag: null }, 'a query that was not prepared is sent as before, unnamed')
    t.equal((await sql`select name from pg_prepared_statements`.execute(oneConnection)).rows.length, 1)
  })

  t.test('a value that is computed with, or not used, is refused when it is prepared', async t => {
    t.throws(() => prepareQuery(['id', 'body'], values => db.selectFrom('notes').selectAll()
      .where('id', '=', values.id).where('body', '=', JSON.stringify(values.body))), /body did not become parameters/)
    t.throws(() => prepareQuery(['id', 'tag'], values => db.selectFrom('notes').selectAll().where('id', '=', values.id)), /tag did not become parameters/)
  })
})
