/**
 * What haproxy.cfg, compose.yaml and doc/ports-and-env.md say differently from the process
 * table (src/topology.ts), one sentence per disagreement; [] when they agree.
 */
import { parse } from 'yaml'
import { brokerUrlVariable, databaseUrlVariable, defaultDatabaseRole } from '@orders/platform'
import { GATEWAY, GATEWAY_ADDRESSES, SERVICES, type PortEntry } from '../src/topology.ts'

/** Services in compose.yaml that the launcher does not start (the machine's own servers, `pnpm migrate`, the broker's users). */
const COMPOSE_INFRASTRUCTURE = ['postgres', 'rabbitmq', 'redis', 'migrate', 'broker-setup']
/** Variables only the containers need: the image's app is built once, never on start. */
const CONTAINER_ONLY_ENV: Record<string, string[]> = { web: ['WEB_BUILD'] }

const sorted = (values: Iterable<string>) => [...values].sort()
const same = (a: Iterable<string>, b: Iterable<string>) => JSON.stringify(sorted(a)) === JSON.stringify(sorted(b))

export function haproxyDisagreements (configFile: string): string[] {
  const problems: string[] = []
  const config = configFile.split('\n').filter(line => !/^\s*#/.test(line)).join('\n')
  const address = (hostEnv: string, port: PortEntry) => `"\${${hostEnv}-127.0.0.1}:\${${port.env}-${port.default}}"`

  const variables = new Set([...config.matchAll(/\$\{([A-Z0-9_]+)-/g)].map(m => m[1]!))
  const expected = GATEWAY_ADDRESSES.flatMap(a => [a.hostEnv, a.port.env])
  if (!same(variables, expected)) problems.push(`haproxy.cfg reads ${sorted(variables).join(' ')}; the table has ${sorted(expected).join(' ')}`)

  const binds = [...config.matchAll(/^\s*bind\s+(\S+)/gm)].map(m => m[1]!)
  for (const { hostEnv, port } of [{ hostEnv: GATEWAY.hostEnv, port: GATEWAY.port }, GATEWAY.stats]) {
    if (!binds.includes(address(hostEnv, port))) problems.push(`haproxy.cfg binds no ${address(hostEnv, port)} (binds: ${binds.join(', ')})`)
  }

  // "backend/server" → the rest of its server line
  const servers = new Map<string, string>()
  let backend = ''
  for (const line of config.split('\n')) {
    const section = /^(backend|frontend|listen|defaults|global)\s*(\S*)/.exec(line)
    if (section) backend = section[1] === 'backend' ? section[2]! : ''
    const server = /^\s+server\s+(\S+)\s+(.*)$/.exec(line)
    if (server && backend) servers.set(`${backend}/${server[1]}`, server[2]!.trim())
  }
  const behindGateway = SERVICES.flatMap(s => s.gateway ? [{ ...s.gateway, port: s.port, name: s.name }] : [])
  const expectedServers = behindGateway.map(g => `${g.backend}/${g.server}`)
  if (!same(servers.keys(), expectedServers)) problems.push(`haproxy.cfg has the servers ${sorted(servers.keys()).join(' ')}; the table has ${sorted(expectedServers).join(' ')}`)
  for (const g of behindGateway) {
    const line = servers.get(`${g.backend}/${g.server}`)
    if (line === undefined) continue
    const [target, ...options] = line.split(/\s+/)
    if (target !== address(g.hostEnv, g.port)) problems.push(`haproxy.cfg: server ${g.backend}/${g.server} is at ${target}; the table says ${address(g.hostEnv, g.port)}`)
    if (options.includes('check') !== g.checked) problems.push(`haproxy.cfg: server ${g.backend}/${g.server} is ${g.checked ? 'not ' : ''}health-checked; the table says the opposite`)
  }
  return problems
}

interface ComposeService { command?: string[], environment?: Record<string, string | number>, ports?: string[], volumes?: string[] }

export function composeDisagreements (compose: string): string[] {
  const problems: string[] = []
  // merge: compose.yaml shares settings between services with YAML merge keys (<<: *anchor).
  const services = (parse(compose, { merge: true }) as { services: Record<string, ComposeService> }).services
  const names = Object.keys(services).filter(name => !COMPOSE_INFRASTRUCTURE.includes(name))
  const expectedNames = [...SERVICES.map(s => s.name), GATEWAY.name]
  if (!same(names, expectedNames)) problems.push(`compose.yaml runs ${sorted(names).join(' ')}; the table has ${sorted(expectedNames).join(' ')}`)
  const defaultPortOf = new Map<string, number>([...SERVICES.map(s => [s.name, s.port.default] as const), [GATEWAY.name, GATEWAY.port.default]])

  for (const entry of SERVICES) {
    const service = services[entry.name]
    if (!service) continue
    const env = Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, String(v)]))
    const command = ['node', '--import', 'tsx', entry.entryPoint]
    if (JSON.stringify(service.command) !== JSON.stringify(command)) problems.push(`compose.yaml: ${entry.name} runs ${JSON.stringify(service.command)}; the table says ${JSON.stringify(command)}`)
    if (env.PORT !== String(entry.port.default)) problems.push(`compose.yaml: ${entry.name} has PORT ${env.PORT}; the table says ${entry.port.default}`)
    const expectedEnv = [...entry.env, 'PORT', ...(CONTAINER_ONLY_ENV[entry.name] ?? [])]
    if (!same(Object.keys(env), expectedEnv)) problems.push(`compose.yaml: ${entry.name} gets ${sorted(Object.keys(env)).join(' ')}; the table gives ${sorted(expectedEnv).join(' ')}`)
    if (entry.env.includes('INSTANCE_ID') && env.INSTANCE_ID !== entry.name) problems.push(`compose.yaml: ${entry.name} has INSTANCE_ID ${env.INSTANCE_ID}`)
    problems.push(...accountDisagreements(entry.name, entry.account, env, services))
    // A URL naming another process must use that process's port.
    for (const [key, value] of Object.entries(env)) {
      const url = /^https?:\/\/([a-z0-9-]+):(\d+)/.exec(value)
      if (url && defaultPortOf.has(url[1]!) && Number(url[2]) !== defaultPortOf.get(url[1]!)) {
        problems.push(`compose.yaml: ${entry.name}'s ${key} reaches ${url[1]} on ${url[2]}; the table says ${defaultPortOf.get(url[1]!)}`)
      }
    }
  }

  const haproxy = services[GATEWAY.name]
  if (haproxy) {
    const env = Object.fromEntries(Object.entries(haproxy.environment ?? {}).map(([k, v]) => [k, String(v)]))
    const expected = GATEWAY_ADDRESSES.flatMap(a => [a.hostEnv, a.port.env])
    if (!same(Object.keys(env), expected)) problems.push(`compose.yaml: haproxy gets ${sorted(Object.keys(env)).join(' ')}; haproxy.cfg reads ${sorted(expected).join(' ')}`)
    for (const { port } of GATEWAY_ADDRESSES) {
      if (env[port.env] !== String(port.default)) problems.push(`compose.yaml: haproxy has ${port.env} ${env[port.env]}; the table says ${port.default}`)
    }
    for (const { name, gateway } of SERVICES) {
      if (gateway && env[gateway.hostEnv] !== name) problems.push(`compose.yaml: haproxy has ${gateway.hostEnv} ${env[gateway.hostEnv]}; the service is ${name}`)
    }
    const published = (haproxy.ports ?? []).map(mapping => Number(mapping.split(':').at(-1)))
    for (const port of [GATEWAY.port, GATEWAY.stats.port]) {
      if (!published.includes(port.default)) problems.push(`compose.yaml: haproxy publishes ${published.join(', ')}, not ${port.env} ${port.default}`)
    }
    if (!(haproxy.volumes ?? []).some(volume => volume.startsWith(`./${GATEWAY.config}:`))) problems.push(`compose.yaml: haproxy does not mount ./${GATEWAY.config}`)
  }
  return problems
}

/**
 * A service connects as its own account's role and broker user, with the very URLs `migrate`
 * and `broker-setup` create them from (doc/security.md, "Least privilege").
 */
function accountDisagreements (name: string, account: (typeof SERVICES)[number]['account'], env: Record<string, string>, services: Record<string, ComposeService>): string[] {
  if (account === undefined) return []
  const problems: string[] = []
  // The URLs hold `${…}` references to their passwords, which no URL parser takes.
  const user = (url: string | undefined) => url === undefined ? undefined : /^[a-z]+:\/\/([^:@/]+)/.exec(url)?.[1]
  if (user(env.DATABASE_URL) !== defaultDatabaseRole(account)) problems.push(`compose.yaml: ${name} connects to PostgreSQL as ${user(env.DATABASE_URL)}; its account ${account} is ${defaultDatabaseRole(account)}`)
  if (user(env.AMQP_URL) !== account) problems.push(`compose.yaml: ${name} connects to RabbitMQ as ${user(env.AMQP_URL)}; its account is ${account}`)
  const setUp = [['migrate', databaseUrlVariable(account), env.DATABASE_URL], ['broker-setup', brokerUrlVariable(account), env.AMQP_URL]] as const
  for (const [service, variable, url] of setUp) {
    if (String(services[service]?.environment?.[variable]) !== url) problems.push(`compose.yaml: ${service}'s ${variable} is not ${name}'s own URL`)
  }
  return problems
}

export function docDisagreements (markdown: string): string[] {
  const problems: string[] = []
  const codes = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map(m => m[1]!)
  const lines = markdown.split('\n')
  const header = lines.findIndex(line => line.startsWith('| process | package |'))
  if (header < 0) return ['doc/ports-and-env.md has no table starting "| process | package |"']
  const rows: string[] = []
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith('|')) break
    const cells = line.split('|').slice(1, -1)
    const gateway = codes(cells[6] ?? '')[0]
    rows.push([codes(cells[0]!)[0], codes(cells[1]!)[0], codes(cells[2]!)[0], codes(cells[3]!)[0], Number(cells[4]),
      codes(cells[5]!).join(' '), gateway ? `${gateway}${/not health-checked/.test(cells[6]!) ? ' unchecked' : ''}` : '-'].join(' | '))
  }
  const expected = [
    ...SERVICES.map(s => [s.name, s.package, s.entryPoint, s.port.env, s.port.default, s.env.join(' '),
      s.gateway ? `${s.gateway.backend}/${s.gateway.server}${s.gateway.checked ? '' : ' unchecked'}` : '-'].join(' | ')),
    ...[GATEWAY.port, GATEWAY.stats.port].map(port => [GATEWAY.name, GATEWAY.package, GATEWAY.config, port.env, port.default, '', '-'].join(' | '))
  ]
  for (const row of rows.filter(r => !expected.includes(r))) problems.push(`doc/ports-and-env.md has the row "${row}", which is not in the table`)
  for (const row of expected.filter(r => !rows.includes(r))) problems.push(`doc/ports-and-env.md lacks the row "${row}"`)

  const haproxySection = markdown.slice(markdown.indexOf('## HAProxy'))
  const named = new Set(codes(haproxySection).filter(code => /^[A-Z0-9_]+_(HOST|PORT)$/.test(code)))
  const read = GATEWAY_ADDRESSES.flatMap(a => [a.hostEnv, a.port.env])
  if (!same(named, read)) problems.push(`doc/ports-and-env.md's HAProxy section names ${sorted(named).join(' ')}; haproxy.cfg reads ${sorted(read).join(' ')}`)
  return problems
}
