import t, { type Test } from 'tap'
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import pino from 'pino'
import { createTestRedis, startTcpProxy, TEST_REDIS_URL, type TestRedis } from '@orders/test-support'
import { AccessTokenDenylist, createRedisClient, type Redis } from '../src/index.ts'

const log = pino({ level: 'silent' })
const inFifteenMinutes = () => Math.floor(Date.now() / 1000) + 900

async function openDenylist (t: Test, redis: Redis | undefined, options: { nowSeconds?: () => number } = {}) {
  const denylist = await AccessTokenDenylist.open({ redis, log, ...options })
  t.teardown(async () => { await denylist.close() })
  return denylist
}

/** A second process's client on the same key prefix, as another replica has. */
function replicaClient (t: Test, redis: TestRedis, url = redis.url): Redis {
  const client = createRedisClient({ url, keyPrefix: redis.keyPrefix, log })
  t.teardown(() => { client.disconnect() })
  return client
}

/** Resolves once `denylist` has heard of `jti` (through pub/sub or a reconcile). */
async function heard (denylist: AccessTokenDenylist, jti: string): Promise<void> {
  if (denylist.isRevoked(jti)) return
  await new Promise<void>(resolve => {
    const stop = denylist.onRevoked(revoked => { if (revoked === jti) { stop(); resolve() } })
  })
}

t.test('a token revoked by one process is refused by another within moments, without a request to Redis per check', async t => {
  const redis = await createTestRedis()
  t.teardown(async () => { await redis.drop() })
  const issuer = await openDenylist(t, redis.client)
  const verifier = await openDenylist(t, replicaClient(t, redis))
  const jti = randomUUID()
  t.notOk(verifier.isRevoked(jti))
  await issuer.revoke([{ jti, expiresAt: inFifteenMinutes() }])
  t.ok(issuer.isRevoked(jti), 'at once where it was revoked')
  await heard(verifier, jti)
  t.ok(verifier.isRevoked(jti), 'and in the other process through pub/sub')
  t.notOk(verifier.isRevoked(randomUUID()), 'other tokens are not')
})

t.test('a process that starts later reads what was revoked before it', async t => {
  const redis = await createTestRedis()
  t.teardown(async () => { await redis.drop() })
  const issuer = await openDenylist(t, redis.client)
  const jti = randomUUID()
  await issuer.revoke([{ jti, expiresAt: inFifteenMinutes() }])
  const late = await openDenylist(t, replicaClient(t, redis))
  t.ok(late.isRevoked(jti))
})

t.test('a token that has expired anyway is forgotten, in memory and in Redis', async t => {
  const redis = await createTestRedis()
  t.teardown(async () => { await redis.drop() })
  let now = Math.floor(Date.now() / 1000)
  const denylist = await openDenylist(t, redis.client, { nowSeconds: () => now })
  const soon = { jti: randomUUID(), expiresAt: now + 60 }
  const later = { jti: randomUUID(), expiresAt: now + 900 }
  await denylist.revoke([soon, later, { jti: randomUUID(), expiresAt: now - 1 }])
  t.equal(denylist.size, 2, 'an already expired token is not even stored')
  now += 61
  await denylist.reconcile()
  t.notOk(denylist.isRevoked(soon.jti), 'expired: forgotten')
  t.ok(denylist.isRevoked(later.jti))
  await denylist.revoke([{ jti: randomUUID(), expiresAt: now + 900 }])
  const stored = await redis.client.zrange('revoked-access-tokens', 0, -1)
  t.notOk(stored.includes(soon.jti), 'the next revocation drops it from Redis too')
  t.ok(stored.includes(later.jti))
})

t.test('while Redis is unreachable a verifier keeps what it knows, and catches up when Redis is back', async t => {
  const redis = await createTestRedis()
  t.teardown(async () => { await redis.drop() })
  const proxy = await startTcpProxy({ port: Number(new URL(TEST_REDIS_URL).port || 6379) })
  t.teardown(async () => { await proxy.close() })
  const behindProxy = replicaClient(t, redis, `redis://127.0.0.1:${proxy.port}`)
  const issuer = await openDenylist(t, redis.client)
  const verifier = await openDenylist(t, behindProxy)
  const before = randomUUID()
  await issuer.revoke([{ jti: before, expiresAt: inFifteenMinutes() }])
  await heard(verifier, before)

  proxy.cut()
  const during = randomUUID()
  await issuer.revoke([{ jti: during, expiresAt: inFifteenMinutes() }])
  t.ok(verifier.isRevoked(before), 'what it held stays revoked')
  t.notOk(verifier.isRevoked(during), 'it cannot hear of new revocations')

  proxy.restore()
  await heard(verifier, during)
  t.pass('the revocation made during the outage arrived after it (the whole set is read again on reconnect)')
})

t.test('revoking rejects while Redis is unreachable, and the process still refuses the token itself', async t => {
  const redis = await createTestRedis()
  t.teardown(async () => { await redis.drop() })
  const proxy = await startTcpProxy({ port: Number(new URL(TEST_REDIS_URL).port || 6379) })
  t.teardown(async () => { await proxy.close() })
  const client = replicaClient(t, redis, `redis://127.0.0.1:${proxy.port}`)
  if (client.status !== 'ready') await once(client, 'ready')
  const denylist = await openDenylist(t, client)
  proxy.cut()
  const jti = randomUUID()
  await t.rejects(denylist.revoke([{ jti, expiresAt: inFifteenMinutes() }]))
  t.ok(denylist.isRevoked(jti))
})

t.test('without Redis the list is this process\'s own', async t => {
  const denylist = await openDenylist(t, undefined)
  const jti = randomUUID()
  const heardOf: string[] = []
  denylist.onRevoked(revoked => { heardOf.push(revoked) })
  await denylist.revoke([{ jti, expiresAt: inFifteenMinutes() }])
  t.ok(denylist.isRevoked(jti))
  t.same(heardOf, [jti], 'listeners hear of it once')
  await denylist.revoke([{ jti, expiresAt: inFifteenMinutes() }])
  t.same(heardOf, [jti], 'not twice')
})
