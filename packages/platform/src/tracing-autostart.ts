/**
 * Import this first in a composition root (`import '@orders/platform/tracing-autostart'`):
 * with OTEL_TRACES_EXPORTER=otlp it starts the SDK before the imports after it load pg,
 * fastify and undici; otherwise it does nothing (doc/operations.md, "How to read a trace").
 * It imports nothing else of the platform, so nothing it traces is loaded before it.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { startTracing, tracingEnabled } from './tracing-sdk.ts'

/** The entry point's package name without its scope (`order-service`): the default service.name. */
function entryPackageName (): string {
  let dir = path.dirname(path.resolve(process.argv[1] ?? '.'))
  for (;;) {
    try {
      const name = (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string }).name
      if (name !== undefined) return name.replace(/^@[^/]+\//, '')
    } catch {}
    const parent = path.dirname(dir)
    if (parent === dir) return 'unknown_service'
    dir = parent
  }
}

if (tracingEnabled(process.env)) {
  const tracing = startTracing({ serviceName: entryPackageName() })
  // Spans wait up to 5 s in the batch: send them while the process drains (closeOnSignals).
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => { tracing.flush().catch(() => {}) })
  process.once('beforeExit', () => { tracing.shutdown().catch(() => {}) })
}
