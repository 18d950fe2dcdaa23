import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { loadUserServiceConfig } from '../src/config.ts'

t.test('defaults: port 3001 and no service clients', async t => {
  const config = loadUserServiceConfig({})
  t.equal(config.PORT, 3001)
  t.same(config.SERVICE_CLIENTS, [])
})

t.test('SERVICE_CLIENTS is read as a JSON list of clients', async t => {
  const clients = [{ client_id: 'order-processor', client_secret: 's3cret-s3cret', scopes: ['orders:status'] }]
  const config = loadUserServiceConfig({ SERVICE_CLIENTS: JSON.stringify(clients), PORT: '4001' })
  t.same(config.SERVICE_CLIENTS, clients)
  t.equal(config.PORT, 4001)
})

t.test('a malformed SERVICE_CLIENTS stops the start with a message that names it', async t => {
  const cases: Array<[string, string]> = [
    ['not JSON', '[{client_id:'],
    ['not a list', '{"client_id":"a","client_secret":"b","scopes":["orders:status"]}'],
    ['a client without a secret', '[{"client_id":"a","scopes":["orders:status"]}]'],
    ['an unknown scope', '[{"client_id":"a","client_secret":"b","scopes":["admin"]}]'],
    ['no scopes', '[{"client_id":"a","client_secret":"b","scopes":[]}]'],
    ['an unknown property', '[{"client_id":"a","client_secret":"b","scopes":["orders:status"],"role":"x"}]'],
    ['the same client twice', '[{"client_id":"a","client_secret":"b","scopes":["orders:status"]},{"client_id":"a","client_secret":"c","scopes":["orders:status"]}]']
  ]
  for (const [name, value] of cases) {
    t.throws(() => loadUserServiceConfig({ SERVICE_CLIENTS: value }), /SERVICE_CLIENTS/, name)
  }
})

t.test('a service client may not be granted the user scope (it would act as a person)', async t => {
  t.throws(() => loadUserServiceConfig({ SERVICE_CLIENTS: '[{"client_id":"a","client_secret":"b","scopes":["orders"]}]' }), /SERVICE_CLIENTS/)
})

t.test('the error message never repeats a client secret', async t => {
  const invalid = [
    '[{"client_id":"a","client_secret":"very-secret-value","scopes":["admin"]}]',
    '[{"client_id":"a","client_secret":"very-secret-value" "scopes":["orders:status"]}]'
  ]
  for (const value of invalid) {
    const err = t.throws(() => loadUserServiceConfig({ SERVICE_CLIENTS: value })) as Error
    t.notMatch(err.message, /very-secret-value/)
  }
})

t.test('the signing keys\' encryption key: required in production, from env or a file, base64 of 32 bytes', async t => {
  const key = randomBytes(32)
  t.throws(() => loadUserServiceConfig({ NODE_ENV: 'production' }), /SIGNING_KEY_ENCRYPTION_KEY: required when NODE_ENV=production/, 'production without it refuses to start')
  t.equal(loadUserServiceConfig({}).signingKeyEncryptionKey, undefined, 'development may go without (keys then stored unencrypted, with a warning)')
  t.same(loadUserServiceConfig({ NODE_ENV: 'production', SIGNING_KEY_ENCRYPTION_KEY: key.toString('base64') }).signingKeyEncryptionKey, key)

  const dir = await mkdtemp(path.join(tmpdir(), 'kek-'))
  t.teardown(() => rm(dir, { recursive: true }))
  const file = path.join(dir, 'encryption-key')
  await writeFile(file, `${key.toString('base64')}\n`)
  t.same(loadUserServiceConfig({ NODE_ENV: 'production', SIGNING_KEY_ENCRYPTION_KEY_FILE: file }).signingKeyEncryptionKey, key, 'a mounted secret file works too')
  t.throws(() => loadUserServiceConfig({ SIGNING_KEY_ENCRYPTION_KEY_FILE: path.join(dir, 'missing') }), /SIGNING_KEY_ENCRYPTION_KEY_FILE: cannot read .*missing \(ENOENT\)/)
  t.throws(() => loadUserServiceConfig({ SIGNING_KEY_ENCRYPTION_KEY: key.toString('base64'), SIGNING_KEY_ENCRYPTION_KEY_FILE: file }), /both set/)
  for (const bad of [randomBytes(16).toString('base64'), 'not base64 at all!', key.toString('hex')]) {
    const err = t.throws(() => loadUserServiceConfig({ SIGNING_KEY_ENCRYPTION_KEY: bad })) as Error
    t.match(err.message, /SIGNING_KEY_ENCRYPTION_KEY: must be base64 of 32 bytes/)
    t.notMatch(err.message, bad, 'the message never quotes the key')
  }
})

t.test('sessions: 7 days idle and 30 days at most by default; an idle lifetime beyond the absolute one stops the start', async t => {
  const config = loadUserServiceConfig({})
  t.equal(config.SESSION_IDLE_LIFETIME_SECONDS, 7 * 24 * 3600)
  t.equal(config.SESSION_ABSOLUTE_LIFETIME_SECONDS, 30 * 24 * 3600)
  t.throws(() => loadUserServiceConfig({ SESSION_IDLE_LIFETIME_SECONDS: '7200', SESSION_ABSOLUTE_LIFETIME_SECONDS: '3600' }), /SESSION_IDLE_LIFETIME_SECONDS: must not be longer than SESSION_ABSOLUTE_LIFETIME_SECONDS/)
})
