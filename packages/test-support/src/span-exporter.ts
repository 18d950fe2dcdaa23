import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base'

/**
 * Spans kept in memory as they end, for tests of tracing (`startTracing({ exporter })`);
 * `ended(name)` resolves once a span of that name has ended, so a test awaits it instead of polling.
 */
export class WatchedSpanExporter extends InMemorySpanExporter {
  readonly #waiters: Array<{ name: string, resolve: (span: ReadableSpan) => void }> = []

  override export (spans: ReadableSpan[], done: Parameters<InMemorySpanExporter['export']>[1]): void {
    super.export(spans, done)
    for (const span of spans) {
      for (const waiter of this.#waiters.filter(w => w.name === span.name)) waiter.resolve(span)
    }
  }

  async ended (name: string): Promise<ReadableSpan> {
    const done = this.getFinishedSpans().find(span => span.name === name)
    if (done !== undefined) return done
    return await new Promise(resolve => { this.#waiters.push({ name, resolve }) })
  }
}
