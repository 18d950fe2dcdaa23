/**
 * The order-processor process (composition root): reads the environment, starts the
 * processor and closes it in order on SIGTERM/SIGINT.
 */
import { closeOnSignals } from '@orders/platform'
import { loadProcessorConfig } from './config.ts'
import { startOrderProcessor } from './processor.ts'

const config = loadProcessorConfig()
const processor = await startOrderProcessor(config)
closeOnSignals(processor.app.log, processor.close)
