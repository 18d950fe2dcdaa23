import { randomBytes } from 'node:crypto'
import t, { type Test } from 'tap'
import { sql } from 'kysely'
import { createTestDatabase } from '@orders/test-support'
import { SigningKeys, generateSigningKey } from '../src/signing-keys.ts'
import { retireSupersededKeys, rotateIfDue, rotateSigningKey } from '../src/key-rotation.ts'
import { decryptPrivateKey, SigningKeyDecryptionError } from '../src/signing-key-encryption.ts'

const kek = randomBytes(32)

async function testDatabase (t: Test) {
  const database = await createTestDatabase()
  t.teardown(() => database.drop())
  return database
}

t.test('the first start creates one key; instances starting together agree on it', async t => {
  const database = await testDatabase(t)
  const instances = await Promise.all([SigningKeys.open(database.db, { encryptionKey: kek }), SigningKeys.open(database.db, { encryptionKey: kek }), SigningKeys.open(database.db, { encryptionKey: kek })])
  const rows = await database.db.withSchema('users').selectFrom('signing_keys').selectAll().execute()
  t.equal(rows.length, 1)
  t.same(instances.map(keys => keys.current.kid), [rows[0]!.kid, rows[0]!.kid, rows[0]!.kid])
  t.match(rows[0], { algorithm: 'ES256', public_jwk: { kty: 'EC', crv: 'P-256' } })
  t.notOk('d' in rows[0]!.public_jwk, 'the stored public JWK has no private part')
})

t.test('private keys are encrypted at rest: the column holds no PEM, and only the KEK opens it', async t => {
  const database = await testDatabase(t)
  const keys = await SigningKeys.open(database.db, { encryptionKey: kek })
  await rotateSigningKey(database.db, { encryptionKey: kek, publishDelayMs: 0 })
  const rows = await database.db.withSchema('users').selectFrom('signing_keys').select(['kid', 'private_key']).execute()
  t.equal(rows.length, 2)
  for (const row of rows) {
    t.notMatch(row.private_key, /PRIVATE KEY|-----BEGIN/, 'no plaintext PEM in the column')
    t.match(row.private_key, /^aes-256-gcm:v1:/)
    t.match(decryptPrivateKey(row.private_key, row.kid, kek), /^-----BEGIN PRIVATE KEY-----/)
  }
  t.equal(keys.current.privateKeyPem, decryptPrivateKey(rows.find(row => row.kid === keys.current.kid)!.private_key, keys.current.kid, kek))
  t.throws(() => decryptPrivateKey(rows[0]!.private_key, 'another-kid', kek), SigningKeyDecryptionError, 'a ciphertext moved to another row does not decrypt')
})

t.test('a wrong KEK, or none, fails the start with a message that says so', async t => {
  const database = await testDatabase(t)
  const keys = await SigningKeys.open(database.db, { encryptionKey: kek })
  await t.rejects(SigningKeys.open(database.db, { encryptionKey: randomBytes(32) }),
    { name: 'SigningKeyDecryptionError', message: `SIGNING_KEY_ENCRYPTION_KEY does not decrypt the stored signing key ${keys.current.kid}: it is not the key the signing keys were encrypted with` })
  await t.rejects(SigningKeys.open(database.db, {}), { name: 'SigningKeyDecryptionError', message: /the signing keys in the database are encrypted: set SIGNING_KEY_ENCRYPTION_KEY/ })
})

t.test('keys stored in plaintext (before there was a KEK) are encrypted at the first start with one', async t => {
  const database = await testDatabase(t)
  const before = await SigningKeys.open(database.db) // development without a KEK
  const plain = await database.db.withSchema('users').selectFrom('signing_keys').select('private_key').executeTakeFirstOrThrow()
  t.match(plain.private_key, /^-----BEGIN PRIVATE KEY-----/)
  const after = await SigningKeys.open(database.db, { encryptionKey: kek })
  const row = await database.db.withSchema('users').selectFrom('signing_keys').select(['kid', 'private_key']).executeTakeFirstOrThrow()
  t.match(row.private_key, /^aes-256-gcm:v1:/)
  t.equal(after.current.kid, before.current.kid, 'the same key goes on signing')
  t.equal(after.current.privateKeyPem, plain.private_key)
})

t.test('a rotated-in key is published at once, signs only after the publish delay, and every key verifies', async t => {
  const database = await testDatabase(t)
  let now = Date.now()
  const keys = await SigningKeys.open(database.db, { encryptionKey: kek, now: () => now })
  const old = keys.current.kid
  const rotated = await rotateSigningKey(database.db, { encryptionKey: kek, publishDelayMs: 60_000, now: () => now })
  t.same((await keys.publishedKeys()).map(key => key.kid), [rotated.kid, old], 'both in the JWKS, the new one first')
  now += 1_000 // past the reload interval (next test)
  t.ok(await keys.publicKeyPem(rotated.kid), 'an unknown kid reloads the table: the new key verifies here too')
  t.equal(keys.current.kid, old, 'before the delay the old key still signs')
  now += 59_000
  t.equal(keys.current.kid, rotated.kid, 'after it the new one does')
  t.ok(await keys.publicKeyPem(old), 'tokens of the older key still verify')
})

t.test('a forged kid reloads the table at most once per interval', async t => {
  const database = await testDatabase(t)
  let now = Date.now()
  const keys = await SigningKeys.open(database.db, { encryptionKey: kek, now: () => now, minReloadIntervalMs: 1_000 })
  const rotated = await rotateSigningKey(database.db, { encryptionKey: kek, publishDelayMs: 0 })
  t.equal(await keys.publicKeyPem(rotated.kid), undefined, 'within the interval of the last reload an unknown kid is refused without a query')
  now += 1_000
  t.ok(await keys.publicKeyPem(rotated.kid), 'once it has passed the table is read again')
  t.equal(await keys.publicKeyPem('forged'), undefined)
})

t.test('the old key is retired once the longest token lifetime has passed after the new key took over', async t => {
  const database = await testDatabase(t)
  const start = Date.now()
  const first = await SigningKeys.open(database.db, { encryptionKey: kek })
  await sql`update users.signing_keys set signs_from = ${new Date(start - 3_600_000)}`.execute(database.db)
  const rotated = await rotateSigningKey(database.db, { encryptionKey: kek, publishDelayMs: 60_000, now: () => start })
  const lifetime = 15 * 60_000
  t.same(await retireSupersededKeys(database.db, { now: () => start + 60_000 + lifetime, tokenLifetimeMs: lifetime }), [], 'not while a token it signed may still be valid (clock skew included)')
  t.same(await retireSupersededKeys(database.db, { now: () => start + 60_000 + lifetime + 60_000, tokenLifetimeMs: lifetime }), [first.current.kid])
  const left = await database.db.withSchema('users').selectFrom('signing_keys').select('kid').execute()
  t.same(left.map(row => row.kid), [rotated.kid], 'the key that signs is never retired')
})

t.test('the schedule adds a key only when the newest is older than the interval, once across replicas', async t => {
  const database = await testDatabase(t)
  await SigningKeys.open(database.db, { encryptionKey: kek })
  t.equal(await rotateIfDue(database.db, { intervalMs: 3_600_000, publishDelayMs: 0, encryptionKey: kek }), undefined, 'not due yet')
  await sql`update users.signing_keys set created_at = now() - interval '2 hours'`.execute(database.db)
  const replicas = await Promise.all([1, 2, 3].map(async () => await rotateIfDue(database.db, { intervalMs: 3_600_000, publishDelayMs: 0, encryptionKey: kek })))
  t.equal(replicas.filter(result => result !== undefined).length, 1, 'one replica rotates, the others find its key')
  t.equal((await database.db.withSchema('users').selectFrom('signing_keys').select('kid').execute()).length, 2)
})

t.test('kids are RFC 7638 thumbprints: 43 base64url characters, different per key', async t => {
  const a = generateSigningKey()
  const b = generateSigningKey()
  t.match(a.kid, /^[A-Za-z0-9_-]{43}$/)
  t.not(a.kid, b.kid)
})
