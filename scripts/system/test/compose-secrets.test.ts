/**
 * compose.yaml publishes the gateway on every interface, so it must not start with a secret
 * anyone can read in this repository: every password and client secret comes from the
 * environment with `${NAME:?message}`, which makes `docker compose` refuse to start without it.
 */
import t from 'tap'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { parse } from 'yaml'
import { REPO_ROOT } from '../src/topology.ts'

const compose = await readFile(path.join(REPO_ROOT, 'compose.yaml'), 'utf8')
const lines = compose.split('\n').filter(line => !/^\s*#/.test(line))

t.test('every secret is required from the environment, none has a default', async t => {
  const references = [...compose.matchAll(/\$\{([A-Z0-9_]+)(:?[-?])?([^}]*)\}/g)]
  const secrets = references.filter(([, name]) => /PASSWORD|SECRET|ENCRYPTION_KEY/.test(name!))
  t.ok(secrets.length >= 10, `${secrets.length} secret references`)
  for (const [reference, name, operator] of secrets) {
    t.equal(operator, ':?', `${reference}: ${name} is required, with a message`)
  }
  t.same(new Set(secrets.map(([, name]) => name)), new Set([
    'POSTGRES_PASSWORD', 'RABBITMQ_PASSWORD', 'PROCESSOR_CLIENT_SECRET', 'SIGNING_KEY_ENCRYPTION_KEY',
    // Each service's own database role and broker user (doc/security.md, "Least privilege").
    ...['USER_SERVICE', 'ORDER_SERVICE', 'ORDER_PROCESSOR'].flatMap(account => [`${account}_DATABASE_PASSWORD`, `${account}_AMQP_PASSWORD`])
  ]))
})

t.test('only migrate and broker-setup hold the admins\' passwords: every service connects with its own', async t => {
  const services = (parse(compose, { merge: true }) as { services: Record<string, { environment?: Record<string, unknown> }> }).services
  const holders = (secret: string) => Object.entries(services)
    .filter(([, service]) => Object.values(service.environment ?? {}).some(value => String(value).includes(`\${${secret}:`)))
    .map(([name]) => name)
  t.same(holders('POSTGRES_PASSWORD'), ['postgres', 'migrate'])
  t.same(holders('RABBITMQ_PASSWORD'), ['rabbitmq', 'broker-setup'])
})

t.test('no known credentials are written out', async t => {
  const known = lines.filter(line => /guest:guest|postgres:postgres@|POSTGRES_PASSWORD: postgres|development-only|STATS_PASSWORD:/.test(line))
  t.same(known, [])
})
