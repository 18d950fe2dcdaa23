/**
 * `pnpm broker-definitions print`, as a person runs it for a broker of their own: what it prints
 * is what `rabbitmqctl import_definitions` takes, and its users then connect with the
 * permissions of the contracts.
 */
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { Connection } from 'rabbitmq-client'
import { BROKER_PERMISSIONS, NOTIFICATION_QUEUE_PREFIX, SERVICE_ACCOUNTS } from '@orders/contracts'
import { brokerCredentials, brokerUrlVariable, serviceBrokerUrls } from '@orders/platform'
import { createTestVhost, rabbitmqctl, resolveServiceUrls, runCommand } from '@orders/test-support'
import { REPO_ROOT } from '../src/topology.ts'

const run = async (args: string[], env: Record<string, string> = {}) => await runCommand('pnpm', ['--silent', 'broker-definitions', ...args], env)

t.test('print writes definitions rabbitmqctl imports: the services\' users, with their permissions, on the URLs\' vhost', async t => {
  const vhost = await createTestVhost()
  const passwords = Object.fromEntries(SERVICE_ACCOUNTS.map(account => [account, randomBytes(8).toString('hex')])) as Record<(typeof SERVICE_ACCOUNTS)[number], string>
  const urls = serviceBrokerUrls(vhost.url, { userPrefix: `${vhost.name}.`, passwords })
  t.teardown(async () => {
    await vhost.drop()
    for (const url of Object.values(urls)) await rabbitmqctl('delete_user', brokerCredentials(url).user).catch(() => {})
  })
  const printed = await run(['print'], Object.fromEntries(SERVICE_ACCOUNTS.map(account => [brokerUrlVariable(account), urls[account]])))
  t.equal(printed.code, 0, printed.stderr)
  await (await resolveServiceUrls()).rabbitmqctl(['import_definitions'], printed.stdout)

  const permissions = await rabbitmqctl('list_permissions', '-p', vhost.name, '--no-table-headers')
  for (const account of SERVICE_ACCOUNTS) {
    const { configure, write, read } = BROKER_PERMISSIONS[account]
    t.match(permissions, `${brokerCredentials(urls[account]).user}\t${configure}\t${write}\t${read}`, account)
  }
  const connection = new Connection(urls['order-service'])
  t.teardown(async () => { await connection.close() })
  await connection.queueDeclare({ queue: `${NOTIFICATION_QUEUE_PREFIX}cli-test`, exclusive: true })
  t.pass('the order-service\'s user connects with its password and declares its queue')
})

t.test('without the services\' URLs, or with other arguments, it says so and exits 2', async t => {
  const missing = await run(['print'], Object.fromEntries(SERVICE_ACCOUNTS.map(account => [brokerUrlVariable(account), ''])))
  t.equal(missing.code, 2)
  t.match(missing.stderr, /USER_SERVICE_AMQP_URL/)
  const bad = await run(['send'])
  t.equal(bad.code, 2)
  t.match(bad.stderr, /^usage: pnpm broker-definitions print/)
})

t.test("doc/operations.md's rabbitmqctl commands grant what the contracts say", async t => {
  const doc = await readFile(path.join(REPO_ROOT, 'doc/operations.md'), 'utf8')
  const granted = Object.fromEntries([...doc.matchAll(/^rabbitmqctl set_permissions -p \/ (\S+) '([^']*)' '([^']*)' '([^']*)'$/gm)]
    .map(([, user, configure, write, read]) => [user, { configure, write, read }]))
  t.same(granted, BROKER_PERMISSIONS)
})
