/**
 * haproxy.cfg, compose.yaml and doc/ports-and-env.md describe the same processes, ports and
 * variables as the process table the launcher runs (src/topology.ts). Each file is also
 * checked with one deliberate change, so a check that could never fail would show here.
 */
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import t from 'tap'
import { DEFAULT_PORTS, PORTS, PROCESS_NAMES, REPO_ROOT, SERVICES } from '../src/index.ts'
import { composeDisagreements, docDisagreements, haproxyDisagreements } from './topology-disagreements.ts'

const read = async (file: string) => await readFile(path.join(REPO_ROOT, file), 'utf8')
const haproxyCfg = await read('haproxy.cfg')
const composeYaml = await read('compose.yaml')
const portsDoc = await read('doc/ports-and-env.md')

/** `text` with `from` replaced by `to`, failing loudly if `from` is not there. */
function changed (text: string, from: string | RegExp, to: string): string {
  const result = text.replace(from, to)
  if (result === text) throw new Error(`${String(from)} not found`)
  return result
}

t.test('the table has one port per process and no port twice', async t => {
  t.same(PROCESS_NAMES, ['user-service', 'order-service-1', 'order-service-2', 'relay', 'order-processor', 'web', 'haproxy'])
  const numbers = PORTS.map(p => p.default)
  t.equal(new Set(numbers).size, numbers.length, 'distinct default ports')
  t.equal(new Set(PORTS.map(p => p.env)).size, PORTS.length, 'distinct port variables')
  t.same(DEFAULT_PORTS, { userService: 3001, orderService1: 3002, orderService2: 3003, relay: 3004, processor: 3005, web: 3006, gateway: 8080, haproxyStats: 8404 })
  for (const s of SERVICES) t.ok(s.env.length === new Set(s.env).size, `${s.name}: no variable twice`)
})

t.test('haproxy.cfg reads the table\'s addresses and has its servers', async t => {
  t.same(haproxyDisagreements(haproxyCfg), [])
  t.match(haproxyDisagreements(changed(haproxyCfg, '${ORDER_SERVICE_2_PORT-3003}', '${ORDER_SERVICE_2_PORT-3013}')),
    [/server order_service\/order-service-2 is at .*3013/])
  t.match(haproxyDisagreements(changed(haproxyCfg, 'server web "${WEB_HOST-127.0.0.1}:${WEB_PORT-3006}"', 'server web "${WEB_HOST-127.0.0.1}:${WEB_PORT-3006}" check')),
    [/web\/web is health-checked/])
  t.match(haproxyDisagreements(changed(haproxyCfg, 'server order-service-1 ', 'server order-service-one ')),
    [/has the servers/])
  t.match(haproxyDisagreements(changed(haproxyCfg, '${STATS_PORT-8404}', '${STATUS_PORT-8404}')),
    [/reads .*STATUS_PORT/, /binds no/])
})

t.test('compose.yaml runs the table\'s processes with its entry points, ports and variables', async t => {
  t.same(composeDisagreements(composeYaml), [])
  t.match(composeDisagreements(changed(composeYaml, 'PORT: "3004"', 'PORT: "3014"')), [/relay has PORT 3014/])
  t.match(composeDisagreements(changed(composeYaml, 'packages/order-service/src/relay.ts', 'packages/order-service/src/outbox-relay.ts')), [/relay runs/])
  t.match(composeDisagreements(changed(composeYaml, 'INSTANCE_ID: order-service-2', 'REPLICA: order-service-2')), [/order-service-2 gets/])
  t.match(composeDisagreements(changed(composeYaml, 'USER_SERVICE_URL: http://user-service:3001', 'USER_SERVICE_URL: http://user-service:3000')),
    [/USER_SERVICE_URL reaches user-service on 3000/])
  t.match(composeDisagreements(changed(composeYaml, 'WEB_PORT: "3006"', 'WEB_PORT: "3007"')), [/haproxy has WEB_PORT 3007/])
  t.match(composeDisagreements(changed(composeYaml, /\n {2}relay:\n/, '\n  outbox-relay:\n')), [/compose.yaml runs/])
  t.match(composeDisagreements(changed(composeYaml, /( {2}relay:\n(?:.*\n)*? {6}DATABASE_URL: )\*order-service-database/, '$1*order-processor-database')),
    [/relay connects to PostgreSQL as order_processor; its account order-service is order_service/, /migrate's ORDER_SERVICE_DATABASE_URL is not relay's own URL/])
  t.match(composeDisagreements(changed(composeYaml, 'USER_SERVICE_AMQP_URL: *user-service-broker', 'USER_SERVICE_AMQP_URL: *order-service-broker')),
    [/broker-setup's USER_SERVICE_AMQP_URL is not user-service's own URL/])
})

t.test('doc/ports-and-env.md lists the table\'s processes, ports and variables', async t => {
  t.same(docDisagreements(portsDoc), [])
  t.match(docDisagreements(changed(portsDoc, '| `PROCESSOR_PORT` (health only) | 3005 |', '| `PROCESSOR_PORT` (health only) | 3015 |')),
    [/has the row "order-processor .* 3015/, /lacks the row "order-processor .* 3005/])
  t.match(docDisagreements(changed(portsDoc, '`web/web` (not health-checked)', '`web/web`')), [/has the row "web/])
  t.match(docDisagreements(changed(portsDoc, '`WEB_HOST` `WEB_PORT`, ', '')), [/HAProxy section names/])
})
