import t from 'tap'
import { sql } from 'kysely'
import { createTestDatabase } from '@orders/test-support'
import { SigningKeys, generateSigningKey } from '../src/signing-keys.ts'

t.test('the first start creates one key; instances starting together agree on it', async t => {
  const database = await createTestDatabase()
  t.teardown(() => database.drop())
  const instances = await Promise.all([SigningKeys.open(database.db), SigningKeys.open(database.db), SigningKeys.open(database.db)])
  const rows = await database.db.withSchema('users').selectFrom('signing_keys').selectAll().execute()
  t.equal(rows.length, 1)
  t.same(instances.map(keys => keys.current.kid), [rows[0]!.kid, rows[0]!.kid, rows[0]!.kid])
  t.match(rows[0], { algorithm: 'ES256', private_key_pem: /^-----BEGIN PRIVATE KEY-----/, public_jwk: { kty: 'EC', crv: 'P-256' } })
  t.notOk('d' in rows[0]!.public_jwk, 'the stored public JWK has no private part')
})

t.test('the newest key signs; every key stays published and verifiable (rotation)', async t => {
  const database = await createTestDatabase()
  t.teardown(() => database.drop())
  const old = await SigningKeys.open(database.db)
  const next = generateSigningKey()
  await sql`insert into users.signing_keys (kid, algorithm, private_key_pem, public_jwk, created_at)
    values (${next.kid}, 'ES256', ${next.privateKeyPem}, ${JSON.stringify(next.publicJwk)}, now() + interval '1 second')`.execute(database.db)
  const reopened = await SigningKeys.open(database.db)
  t.equal(reopened.current.kid, next.kid)
  t.same((await reopened.publishedKeys()).map(key => key.kid), [next.kid, old.current.kid])
  t.ok(reopened.publicKeyPem(old.current.kid), 'tokens of the older key still verify')
})

t.test('kids are RFC 7638 thumbprints: 43 base64url characters, different per key', async t => {
  const a = generateSigningKey()
  const b = generateSigningKey()
  t.match(a.kid, /^[A-Za-z0-9_-]{43}$/)
  t.not(a.kid, b.kid)
})
