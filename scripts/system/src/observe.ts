/**
 * `pnpm dev --observe`: Prometheus (Debian's package, 2.42) as a child of the launcher,
 * scraping every process of the process table and evaluating deploy/prometheus/rules. Its
 * data goes to a directory of the caller's (`.observe/` for `pnpm dev`), never to the
 * system's /var/lib/prometheus, and it listens on 127.0.0.1 only. doc/operations.md.
 */
import { existsSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { parse, stringify } from 'yaml'
import { SupervisedProcess, type LogLine } from './supervised-process.ts'
import { pollUntil } from './ha/waiting.ts'
import { startWatchdog } from './watchdog.ts'
import { GATEWAY, REPO_ROOT, SERVICES, type SystemPorts } from './topology.ts'

export const INSTALL_PROMETHEUS = 'apt-get install -y prometheus'
export const PROMETHEUS_CONFIG_DIR = path.join(REPO_ROOT, 'deploy', 'prometheus')
/** Prometheus's own port (PROMETHEUS_PORT in `pnpm dev`). */
export const DEFAULT_PROMETHEUS_PORT = 9090

/** A file_sd target group: `job` is the service (both order-service replicas share one), `instance` the process. */
export interface TargetGroup { targets: string[], labels: { job: string, instance: string } }

/** A RabbitMQ node of `pnpm dev --ha`'s cluster: Prometheus scrapes its rabbitmq_prometheus, when enabled. */
export interface BrokerNode { name: string, prometheusPort: number | undefined }

export function prometheusTargets (ports: SystemPorts, host = '127.0.0.1', brokerNodes: readonly BrokerNode[] = []): TargetGroup[] {
  return [
    ...SERVICES.map(service => ({
      targets: [`${host}:${ports[service.port.key]}`],
      labels: { job: service.name.replace(/-\d+$/, ''), instance: service.name }
    })),
    // HAProxy's exporter is on its stats port (haproxy.cfg).
    { targets: [`${host}:${ports[GATEWAY.stats.port.key]}`], labels: { job: GATEWAY.name, instance: GATEWAY.name } },
    // Only the HA cluster's nodes: the machine's own broker has no rabbitmq_prometheus enabled.
    ...brokerNodes.flatMap(node => node.prometheusPort === undefined
      ? []
      : [{ targets: [`${host}:${node.prometheusPort}`], labels: { job: 'rabbitmq', instance: node.name } }])
  ]
}

export interface PrometheusOptions {
  ports: SystemPorts
  /** `pnpm dev --ha`: the cluster's nodes, scraped too. */
  brokerNodes?: readonly BrokerNode[]
  /** Holds the generated configuration, targets.json and the time series (data/). */
  dir: string
  port?: number
  onLog?: LogLine
  readyTimeoutMs?: number
}

export interface RunningPrometheus {
  url: string
  stop: () => Promise<void>
}

export function findPrometheus (): string {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/bin']
  const found = dirs.filter(Boolean).map(dir => path.join(dir, 'prometheus')).find(candidate => existsSync(candidate))
  if (found) return found
  throw new Error(`Prometheus is not installed. Install it (as root) with: ${INSTALL_PROMETHEUS}`)
}

/**
 * deploy/prometheus/prometheus.yml with its relative paths made absolute (rule files in the
 * repository, targets.json in `dir`): Prometheus resolves them against the config's own directory.
 */
export async function writePrometheusConfig (dir: string, ports: SystemPorts, brokerNodes: readonly BrokerNode[] = []): Promise<string> {
  const config = parse(await readFile(path.join(PROMETHEUS_CONFIG_DIR, 'prometheus.yml'), 'utf8')) as {
    rule_files: string[]
    scrape_configs: Array<{ file_sd_configs?: Array<{ files: string[] }> }>
  }
  config.rule_files = config.rule_files.map(file => path.resolve(PROMETHEUS_CONFIG_DIR, file))
  for (const scrape of config.scrape_configs) {
    for (const sd of scrape.file_sd_configs ?? []) sd.files = sd.files.map(file => path.resolve(dir, file))
  }
  await mkdir(dir, { recursive: true })
  await writeFile(path.join(dir, 'targets.json'), JSON.stringify(prometheusTargets(ports, '127.0.0.1', brokerNodes), null, 2))
  const file = path.join(dir, 'prometheus.yml')
  await writeFile(file, stringify(config))
  return file
}

export async function startPrometheus (options: PrometheusOptions): Promise<RunningPrometheus> {
  const binary = findPrometheus()
  const port = options.port ?? DEFAULT_PROMETHEUS_PORT
  const configFile = await writePrometheusConfig(options.dir, options.ports, options.brokerNodes)
  const watchdog = startWatchdog()
  const engine = new SupervisedProcess({
    exitLogSource: 'ha',
    name: 'prometheus',
    command: binary,
    args: [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${path.join(options.dir, 'data')}`,
      '--storage.tsdb.retention.time=2d',
      `--web.listen-address=127.0.0.1:${port}`
    ],
    env: { PATH: process.env.PATH }
  }, options.onLog ?? (() => {}), watchdog)
  const url = `http://127.0.0.1:${port}`
  const stop = async (): Promise<void> => {
    await engine.stop({ graceMs: 10_000 })
    await watchdog.close()
  }
  engine.start()
  try {
    await pollUntil('Prometheus ready', async () => {
      if (!engine.running) throw new Error('Prometheus exited; see its output above')
      return (await fetch(`${url}/-/ready`)).ok ? true : undefined
    }, { timeoutMs: options.readyTimeoutMs ?? 30_000 })
  } catch (err) {
    await stop()
    throw err
  }
  return { url, stop }
}

/**
 * `pnpm dev --observe`: Prometheus on PROMETHEUS_PORT (9090) with its data in .observe/.
 * Without Prometheus installed it stops the platform and exits with the command to run.
 */
export async function startObservingFromDev (system: { ports: SystemPorts, stop: () => Promise<void> }, log: LogLine, brokerNodes: readonly BrokerNode[] = []): Promise<RunningPrometheus> {
  const port = Number(process.env.PROMETHEUS_PORT ?? DEFAULT_PROMETHEUS_PORT)
  try {
    const prometheus = await startPrometheus({ ports: system.ports, brokerNodes, dir: path.join(REPO_ROOT, '.observe'), port, onLog: log })
    log('system', `Prometheus:     ${prometheus.url} (alerts: ${prometheus.url}/alerts)`)
    return prometheus
  } catch (err) {
    log('system', `could not start Prometheus: ${(err as Error).message}`)
    await system.stop()
    process.exit(1)
  }
}
