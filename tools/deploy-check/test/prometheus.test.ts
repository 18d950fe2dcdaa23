import t from 'tap'
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { DEFAULT_PORTS, SERVICES, GATEWAY } from '@orders/system'
import { INSTALL_PROMETHEUS, PROMETHEUS_CONFIG_DIR, writePrometheusConfig, type TargetGroup } from '@orders/system/observe'

const run = promisify(execFile)
const promtool = ['/usr/bin/promtool', ...(process.env.PATH ?? '').split(':').map(dir => path.join(dir, 'promtool'))].find(p => existsSync(p))
if (!promtool) throw new Error(`promtool (Debian's prometheus package) is missing. Install it (as root) with: ${INSTALL_PROMETHEUS}`)

t.test('the recording and alerting rules are valid and pass their unit tests', async t => {
  const checked = await run(promtool, ['check', 'rules', 'rules/orders.yml'], { cwd: PROMETHEUS_CONFIG_DIR })
  t.match(checked.stdout, /SUCCESS: \d+ rules found/)
  // Fails (non-zero exit, rejected promise) when an alert fires or stays quiet unexpectedly.
  const tested = await run(promtool, ['test', 'rules', 'tests/orders.test.yml'], { cwd: PROMETHEUS_CONFIG_DIR })
  t.match(tested.stdout, /SUCCESS/)
  const rules = await readFile(path.join(PROMETHEUS_CONFIG_DIR, 'rules/orders.yml'), 'utf8')
  const tests = await readFile(path.join(PROMETHEUS_CONFIG_DIR, 'tests/orders.test.yml'), 'utf8')
  for (const alert of rules.matchAll(/- alert: (\w+)/g)) {
    t.match(tests, new RegExp(`alertname: ${alert[1]}\\b`), `${alert[1]} has a test`)
  }
})

t.test('pnpm dev --observe\'s configuration is valid and scrapes every process of the process table', async t => {
  const dir = await mkdtemp(path.join(tmpdir(), 'observe-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const config = await writePrometheusConfig(dir, { ...DEFAULT_PORTS })
  const checked = await run(promtool, ['check', 'config', config])
  t.match(checked.stdout, /SUCCESS: 1 rule files found/)
  t.notMatch(checked.stdout + checked.stderr, /WARNING/, 'targets.json is found')

  const targets = JSON.parse(await readFile(path.join(dir, 'targets.json'), 'utf8')) as TargetGroup[]
  const byInstance = new Map(targets.map(group => [group.labels.instance, group]))
  for (const service of SERVICES) {
    t.same(byInstance.get(service.name)?.targets, [`127.0.0.1:${service.port.default}`], service.name)
  }
  t.same(byInstance.get('haproxy')?.targets, [`127.0.0.1:${GATEWAY.stats.port.default}`], 'HAProxy\'s exporter on its stats port')
  t.same(targets.filter(g => g.labels.job === 'order-service').map(g => g.labels.instance), ['order-service-1', 'order-service-2'], 'both replicas are one job')
})
