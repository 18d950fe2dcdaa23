import type { HttpFigures } from './http-load.ts'
import type { Cost } from './report.ts'

export interface CreatePathFigures extends HttpFigures, Cost {
  /** False against a running system (`pnpm dev`), whose processor the bench cannot stop. */
  processorStopped: boolean
}

/** What the bench can do to the processor of the system it measures. */
export interface ProcessorControl {
  stop: () => Promise<void>
  /** Starts it again and resolves once it is ready (consuming its work queue). */
  start: () => Promise<void>
}

/**
 * POST /orders with the pipeline paused: the order-processor is stopped, so what is measured is
 * the create path alone (gateway, token check, validation, the insert with its outbox row, and
 * the relay's publish of each `order_created`, which waits in the durable work queue). Then the
 * processor is started again and `drain` waits (bounded) until the orders are final, so the next
 * phase starts on a quiet system. Without control of the processor the orders are processed
 * beside the measurement, and it says so.
 */
export async function measureCreatePath (options: {
  processor: ProcessorControl | undefined
  measure: () => Promise<HttpFigures & Cost>
  drain: () => Promise<void>
  log: (line: string) => void
}): Promise<CreatePathFigures> {
  const { processor } = options
  if (processor === undefined) return { ...await options.measure(), processorStopped: false }
  await processor.stop()
  let figures: HttpFigures & Cost
  try {
    figures = await options.measure()
  } finally {
    options.log('  starting the order-processor again; draining the orders it missed')
    await processor.start()
  }
  await options.drain()
  return { ...figures, processorStopped: true }
}
