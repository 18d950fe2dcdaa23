import t from 'tap'
import { sql } from 'kysely'
import { buildUserService, countAccounts } from '../helper.ts'

t.test('registering an account', async t => {
  const { app, db } = await buildUserService(t)
  const post = (payload: unknown, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url: '/users', headers, payload: payload as object })

  t.test('answers 201 with id, email and created_at, and never the password or its hash', async t => {
    const res = await post({ email: 'Ada@Example.com', password: 'correct horse battery' })
    t.equal(res.statusCode, 201)
    const user = res.json()
    t.same(Object.keys(user).sort(), ['created_at', 'email', 'id'])
    t.match(user, { email: 'Ada@Example.com', id: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/ })
    t.ok(Date.parse(user.created_at))
    t.notMatch(res.body, /correct horse battery|argon2/)
  })

  t.test('stores the email as typed and the password only as an argon2id hash', async t => {
    const res = await post({ email: 'Grace@Example.com', password: 'another long secret' })
    const row = await db.withSchema('users').selectFrom('accounts').selectAll().where('id', '=', res.json().id).executeTakeFirstOrThrow()
    t.equal(row.email, 'Grace@Example.com')
    t.match(row.password_hash, /^\$argon2id\$v=19\$m=65536,/)
    t.notMatch(row.password_hash, /another long secret/)
  })

  t.test('the same email in other letter case is 409 and no second account is stored', async t => {
    await post({ email: 'linus@example.com', password: 'correct horse battery' })
    const before = await countAccounts(db)
    const res = await post({ email: 'LINUS@example.COM', password: 'some other password' })
    t.equal(res.statusCode, 409)
    t.same(res.json(), { statusCode: 409, error: 'Conflict', message: 'An account with this email already exists' })
    t.equal(await countAccounts(db), before)
  })

  t.test('two simultaneous registrations of one email: one 201, one 409', async t => {
    const [a, b] = await Promise.all([
      post({ email: 'race@example.com', password: 'correct horse battery' }),
      post({ email: 'RACE@example.com', password: 'correct horse battery' })
    ])
    t.same([a.statusCode, b.statusCode].sort(), [201, 409])
  })

  const invalidBodies: Array<[string, unknown]> = [
    ['a malformed email', { email: 'not-an-email', password: 'correct horse battery' }],
    ['an email with a space', { email: 'ada lovelace@example.com', password: 'correct horse battery' }],
    ['a password of 7 characters', { email: 'short@example.com', password: '1234567' }],
    ['a password of 129 characters', { email: 'long@example.com', password: 'x'.repeat(129) }],
    ['an unknown property', { email: 'extra@example.com', password: 'correct horse battery', admin: true }],
    ['an email that is a number', { email: 42, password: 'correct horse battery' }],
    ['a password that is a number', { email: 'number@example.com', password: 12345678 }],
    ['no password', { email: 'nopassword@example.com' }],
    ['a list instead of an object', [{ email: 'list@example.com', password: 'correct horse battery' }]]
  ]
  for (const [name, payload] of invalidBodies) {
    t.test(`${name} is 400 with a message, and nothing is stored`, async t => {
      const before = await countAccounts(db)
      const res = await post(payload)
      t.equal(res.statusCode, 400)
      t.match(res.json(), { statusCode: 400, error: 'Bad Request', message: /\S/ })
      t.equal(await countAccounts(db), before)
    })
  }

  t.test('a password of exactly 8 and of exactly 128 characters is accepted', async t => {
    t.equal((await post({ email: 'eight@example.com', password: 'k7#Qz!p2' })).statusCode, 201)
    t.equal((await post({ email: 'max@example.com', password: 'y'.repeat(128) })).statusCode, 201)
  })

  t.test('malformed JSON is 400', async t => {
    const res = await post('{"email": "a@b.co", ', { 'content-type': 'application/json' })
    t.equal(res.statusCode, 400)
    t.match(res.json(), { statusCode: 400, message: /\S/ })
  })

  t.test('a body over 1 MiB is 413 and nothing is stored', async t => {
    const before = await countAccounts(db)
    const huge = JSON.stringify({ email: 'huge@example.com', password: 'x'.repeat(1024 * 1024) })
    const res = await post(huge, { 'content-type': 'application/json' })
    t.equal(res.statusCode, 413)
    t.match(res.json(), { statusCode: 413, error: 'Payload Too Large', message: /\S/ })
    t.equal(await countAccounts(db), before)
  })

  t.test('a form-encoded body is 415 (only the token endpoint takes forms)', async t => {
    const res = await post('email=form%40example.com&password=correct+horse', { 'content-type': 'application/x-www-form-urlencoded' })
    t.equal(res.statusCode, 415)
  })
})

t.test('the registered event', async t => {
  const service = await buildUserService(t)
  const { app, db } = service
  const outboxRows = () => db.withSchema('users').selectFrom('outbox').selectAll().orderBy('created_at').execute()

  t.test('registering writes exactly one user_registered row to the outbox, with the request id', async t => {
    const commitsBefore = service.outboxCommits
    const res = await app.inject({ method: 'POST', url: '/users', headers: { 'x-request-id': 'req-register-1' }, payload: { email: 'Event@Example.com', password: 'correct horse battery' } })
    const user = res.json()
    const rows = (await outboxRows()).filter(row => (row.payload as any).data.user.id === user.id)
    t.equal(rows.length, 1)
    t.match(rows[0], { exchange: 'users.events', routing_key: 'user_registered', headers: { 'x-request-id': 'req-register-1' }, published_at: null })
    t.same(rows[0]!.payload, { type: 'user_registered', version: 1, occurred_at: user.created_at, data: { user } })
    t.equal(service.outboxCommits, commitsBefore + 1, 'the relay is woken once, after the commit')
  })

  t.test('the event carries no password or hash', async t => {
    const rows = await outboxRows()
    t.notMatch(JSON.stringify(rows.map(row => row.payload)), /password|argon2|correct horse/)
  })

  t.test('a rejected registration writes no event and wakes nobody', async t => {
    const rowsBefore = (await outboxRows()).length
    const commitsBefore = service.outboxCommits
    const res = await app.inject({ method: 'POST', url: '/users', payload: { email: 'EVENT@example.com', password: 'correct horse battery' } })
    t.equal(res.statusCode, 409)
    t.equal((await outboxRows()).length, rowsBefore)
    t.equal(service.outboxCommits, commitsBefore)
  })

  t.test('the account and its event commit together: if the event cannot be written, no account exists', async t => {
    // A constraint that refuses user_registered rows makes the outbox insert fail inside the
    // registration's transaction, after the account insert succeeded.
    await sql`alter table users.outbox add constraint test_refuse_user_registered check (routing_key <> 'user_registered') not valid`.execute(db)
    t.teardown(async () => { await sql`alter table users.outbox drop constraint test_refuse_user_registered`.execute(db) })
    const before = await countAccounts(db)
    const res = await app.inject({ method: 'POST', url: '/users', payload: { email: 'atomic@example.com', password: 'correct horse battery' } })
    t.equal(res.statusCode, 500)
    t.same(res.json(), { statusCode: 500, error: 'Internal Server Error', message: 'Internal Server Error' })
    t.equal(await countAccounts(db), before)
  })
})
