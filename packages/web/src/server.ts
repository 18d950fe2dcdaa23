/**
 * The web app's process (composition root): config, a build of the browser app if the one
 * in dist/ is missing or stale, then the static server. doc/web.md.
 */
import { closeOnSignals, createServiceInstance } from '@orders/platform'
import webApp from './app.ts'
import { buildIfStale } from './build.ts'
import { loadWebConfig } from './config.ts'
import { DIST_DIR, WEB_ROOT } from './paths.ts'

const config = loadWebConfig()
const app = createServiceInstance({ service: 'web', logLevel: config.LOG_LEVEL })

if (config.WEB_BUILD === 'auto') await buildIfStale({ webRoot: WEB_ROOT, distDir: DIST_DIR }, message => { app.log.info(message) })
await app.register(webApp, { root: DIST_DIR })

closeOnSignals(app.log, async () => { await app.close() })

await app.listen({ host: config.HOST, port: config.PORT })
