/**
 * The order-processor process (composition root): reads the environment, starts the
 * processor and closes it in order on SIGTERM/SIGINT.
 */
import '@orders/platform/tracing-autostart' // first: the SDK, when on, must be in place before pg, fastify and undici load
import { closeOnSignals, requireDependencies } from '@orders/platform'
import { loadProcessorConfig } from './config.ts'
import { startOrderProcessor } from './processor.ts'

const config = loadProcessorConfig()
// A database or broker that cannot be reached is named in one line, and the process exits.
await requireDependencies('order-processor', { database: config.DATABASE_URL, broker: config.AMQP_URL })
const processor = await startOrderProcessor(config)
closeOnSignals(processor.app.log, processor.close)
