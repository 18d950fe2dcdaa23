/**
 * `pnpm chaos [--short]` — runs the whole platform behind TCP proxies to the machine's
 * PostgreSQL and RabbitMQ, drives a steady, bounded load of order creations through the gateway,
 * and meanwhile, one after another: SIGKILLs and restarts an order-service replica, the relay and
 * the processor, and cuts the system off from the broker and from the database for a few seconds
 * (`--short`: the processor and the broker). Then it lets the system settle and checks that
 * nothing was lost or done twice. It acts only on what it started (its processes, its proxies),
 * never on the machine's servers, so it may run beside other work.
 */
import { Connection } from 'rabbitmq-client'
import { startIsolatedSystem } from '@orders/system'
import { killAndRestart, outage } from './faults.ts'
import { runChaos } from './run-chaos.ts'

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log('usage: pnpm chaos [--short] [--ha]\n\n  Runs the platform behind TCP proxies under load, kills and restarts its processes and cuts\n  the broker and the database off for a few seconds, then checks that nothing was lost or done\n  twice. --short: the processor and the broker only. --ha: on a RabbitMQ cluster and Patroni of\n  its own (doc/ha.md). Exit status: 0 every invariant holds, 1 otherwise.')
  process.exit(0)
}

// --ha: on a RabbitMQ cluster and Patroni of its own instead (ha-main.ts, which exits when done).
if (process.argv.includes('--ha')) await import('./ha-main.ts')

const short = process.argv.includes('--short')

process.exit(await runChaos({
  name: 'chaos',
  clients: 4,
  ordersPerSecond: 40,
  steadyMs: 3_000,
  hardLimitMs: 8 * 60_000,
  async start (onLog) {
    const { system, database, vhost, proxies, stop } = await startIsolatedSystem({ onLog, behindProxies: true })
    // The verdict reaches the servers directly, not through the proxies.
    const observer = new Connection(vhost.url)
    observer.on('error', () => {})
    const faults = short
      ? [killAndRestart('order-processor'), outage('RabbitMQ', proxies!.broker)]
      : [killAndRestart('order-service-1'), killAndRestart('relay'), killAndRestart('order-processor'), outage('RabbitMQ', proxies!.broker), outage('PostgreSQL', proxies!.database)]
    return {
      system,
      db: database.db,
      observer,
      faults,
      async stop () {
        await observer.close()
        await stop()
      }
    }
  }
}))
