/**
 * Import this first in a composition root (`import '@orders/platform/tracing-autostart'`):
 * with OTEL_TRACES_EXPORTER=otlp it starts the SDK before the imports after it load pg,
 * fastify and undici; otherwise it does nothing (doc/operations.md, "How to read a trace").
 * It imports nothing else of the platform, so nothing it traces is loaded before it.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { startTracing, tracingEnabled } from './tracing-sdk.ts'

/**
 * The default service.name: the entry point's package without its scope (`order-service`),
 * and the entry file when it is not `server` (`order-service-relay`).
 */
function entryServiceName (): string {
  const entry = path.resolve(process.argv[1] ?? '.')
  const file = path.basename(entry).replace(/\.[cm]?[jt]s$/, '')
  const suffix = file === 'server' ? '' : `-${file}`
  let dir = path.dirname(entry)
  for (;;) {
    try {
      const name = (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string }).name
      if (name !== undefined) return name.replace(/^@[^/]+\//, '') + suffix
    } catch {}
    const parent = path.dirname(dir)
    if (parent === dir) return 'unknown_service'
    dir = parent
  }
}

if (tracingEnabled(process.env)) {
  const tracing = startTracing({ serviceName: entryServiceName(), instanceId: process.env.INSTANCE_ID })
  // Spans wait up to 5 s in the batch: send them while the process drains (closeOnSignals).
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => { tracing.flush().catch(() => {}) })
  process.once('beforeExit', () => { tracing.shutdown().catch(() => {}) })
}
