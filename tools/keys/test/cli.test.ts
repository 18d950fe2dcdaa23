import { randomBytes } from 'node:crypto'
import t from 'tap'
import { closedPort, createTestDatabase, runCommand as run } from '@orders/test-support'
import { SigningKeys } from '../../../packages/user-service/src/signing-keys.ts'

// `pnpm keys` as a person runs it: the root script, a real process, its exit status and output.

const keys = async (args: string[], env?: Record<string, string>) => await run(process.execPath, ['--import', 'tsx', 'tools/keys/src/main.ts', ...args], env)

t.test('pnpm keys --help prints the usage and exits 0', async t => {
  const help = await run('pnpm', ['--silent', 'keys', '--help'])
  t.equal(help.code, 0, help.stderr)
  t.match(help.stdout, /^usage: pnpm keys list\n {7}pnpm keys rotate/)
})

t.test('an unknown command is a usage error (2)', async t => {
  const result = await keys(['spin'])
  t.equal(result.code, 2)
  t.match(result.stderr, /^usage: pnpm keys list/)
})

t.test('with PostgreSQL down it says so in one line and exits 3, without a stack trace', async t => {
  const port = await closedPort()
  const result = await keys(['rotate'], { DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/order_platform` })
  t.equal(result.code, 3)
  t.equal(result.stderr.trim(), `cannot reach PostgreSQL at 127.0.0.1:${port}: connection refused`)
  t.equal(result.stdout, '')
})

t.test('rotate adds an encrypted key that signs after the publish delay; a wrong or missing KEK is refused', async t => {
  const database = await createTestDatabase()
  t.teardown(() => database.drop())
  const kek = randomBytes(32)
  const first = await SigningKeys.open(database.as('user-service'), { encryptionKey: kek })
  // As the user-service's own role, the one owner of users.signing_keys.
  const env = { DATABASE_URL: database.serviceUrls['user-service'], SIGNING_KEY_ENCRYPTION_KEY: kek.toString('base64'), SIGNING_KEY_PUBLISH_DELAY_SECONDS: '600' }

  const wrong = await keys(['rotate'], { ...env, SIGNING_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64') })
  t.equal(wrong.code, 1)
  t.match(wrong.stderr, /^pnpm keys rotate: SIGNING_KEY_ENCRYPTION_KEY does not decrypt the stored signing key/)
  const missing = await keys(['rotate'], { ...env, SIGNING_KEY_ENCRYPTION_KEY: '' })
  t.equal(missing.code, 1)
  t.match(missing.stderr, /the signing keys in the database are encrypted/)

  const before = Date.now()
  const rotated = await keys(['rotate'], env)
  t.equal(rotated.code, 0, rotated.stderr)
  const [, kid, signsFrom] = /^added signing key (\S+): published now, signs from (\S+)\n$/.exec(rotated.stdout) ?? []
  t.ok(kid, rotated.stdout)
  t.ok(Date.parse(signsFrom!) >= before + 600_000, 'it signs once the publish delay has passed')
  const rows = await database.db.withSchema('users').selectFrom('signing_keys').select(['kid', 'private_key']).execute()
  t.same(rows.map(row => row.kid).sort(), [first.current.kid, kid!].sort())
  t.ok(rows.every(row => row.private_key.startsWith('aes-256-gcm:v1:')), 'encrypted, like the service\'s own')

  const list = await keys(['list'], env)
  t.equal(list.code, 0, list.stderr)
  t.match(list.stdout, new RegExp(`^${kid!}  added \\S+  signs from ${signsFrom!}  encrypted\\n${first.current.kid}  `))
})
