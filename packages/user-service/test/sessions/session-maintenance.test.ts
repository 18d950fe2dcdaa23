import t from 'tap'
import { sql } from 'kysely'
import pino from 'pino'
import { AccessTokenDenylist } from '@orders/platform'
import { buildUserService, decodeToken, register, signIn } from '../helper.ts'
import { SessionRepository } from '../../src/session-repository.ts'
import { runSessionMaintenance } from '../../src/session-maintenance.ts'

const log = pino({ level: 'silent' })
const DAY = 24 * 3600_000

t.test('session maintenance keeps the tables bounded and the denylist complete', async t => {
  let now = Date.now()
  const { app, db, redis } = await buildUserService(t, { now: () => new Date(now) })
  await register(app, 'ada@example.com')
  const repository = new SessionRepository(db)
  const lifetimes = { idleMs: 7 * DAY, absoluteMs: 30 * DAY }
  const count = async (table: string) => Number((await sql<{ n: string }>`select count(*) as n from ${sql.table(`users.${table}`)}`.execute(db)).rows[0]!.n)

  t.test('a session ended by an operator with SQL: its live access tokens reach the denylist of every verifier', async t => {
    const session = await signIn(app, 'ada@example.com')
    const { sid, jti } = decodeToken(session.accessToken).claims as { sid: string, jti: string }
    await sql`update users.sessions set revoked_at = now(), revoked_reason = 'operator' where id = ${sid}`.execute(db)
    const verifier = await AccessTokenDenylist.open({ redis: redis.client, log })
    t.teardown(async () => { await verifier.close() })
    t.notOk(verifier.isRevoked(jti))
    await runSessionMaintenance({ repository, denylist: app.accessTokenDenylist, lifetimes, log, now: () => new Date(now) })
    await verifier.reconcile()
    t.ok(verifier.isRevoked(jti), 'in Redis, where every verifier reads it')
    t.equal((await app.inject({ method: 'GET', url: '/users/me', headers: { authorization: `Bearer ${session.accessToken}` } })).statusCode, 401)
  })

  t.test('sessions past their idle lifetime are deleted with their tokens; live ones stay', async t => {
    await signIn(app, 'ada@example.com')
    const sessionsBefore = await count('sessions')
    now += 7 * DAY + 1
    const live = await signIn(app, 'ada@example.com')
    await runSessionMaintenance({ repository, denylist: app.accessTokenDenylist, lifetimes, log, now: () => new Date(now) })
    t.equal(await count('sessions'), 1, `${sessionsBefore} ended sessions deleted, the live one kept`)
    t.equal(await count('refresh_tokens'), 1)
    const res = await app.inject({ method: 'POST', url: '/oauth/token', payload: { grant_type: 'refresh_token', refresh_token: live.refreshToken } })
    t.equal(res.statusCode, 200)
  })

  t.test('tokens used more than the idle lifetime ago are deleted, the session and its newer tokens stay', async t => {
    t.equal(await count('refresh_tokens'), 2, 'the used token and its successor')
    now += 7 * DAY - 1000
    const successor = (await sql<{ token_hash: Buffer }>`select token_hash from users.refresh_tokens where used_at is null`.execute(db)).rows[0]!
    await sql`update users.sessions set idle_expires_at = ${new Date(now + DAY)}`.execute(db) // still in use meanwhile
    now += 2000
    await runSessionMaintenance({ repository, denylist: app.accessTokenDenylist, lifetimes, log, now: () => new Date(now) })
    const left = (await sql<{ token_hash: Buffer }>`select token_hash from users.refresh_tokens`.execute(db)).rows
    t.same(left.map(row => row.token_hash.toString('hex')), [successor.token_hash.toString('hex')])
    t.equal(await count('sessions'), 1)
  })
})
