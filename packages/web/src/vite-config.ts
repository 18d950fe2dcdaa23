/**
 * Vite's configuration for the browser app, in src/ so that `pnpm typecheck` checks it with
 * the Node side. Used by `pnpm --filter @orders/web build` / `dev` (`--config`) and by
 * src/build.ts when the server builds on start.
 */
import type { UserConfig } from 'vite'
import { DIST_DIR, WEB_ROOT } from './paths.ts'

// Only for `vite` (the dev server with hot reload): the API is proxied to the gateway, so
// the app still talks to one origin. The built app needs no proxy: HAProxy serves both.
const gateway = process.env.GATEWAY_URL ?? `http://127.0.0.1:${process.env.GATEWAY_PORT ?? '8080'}`

const config = {
  root: WEB_ROOT,
  // esbuild compiles the JSX for Preact (no Babel plugin needed).
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  // No source maps in the build the gateway serves: they would publish the unminified sources.
  build: { outDir: DIST_DIR, emptyOutDir: true, target: 'es2022', sourcemap: false },
  // Vite's default conditions add "production" to a build; the workspace packages' "production"
  // export is their compiled dist/ (for the service images, `pnpm build`), which a checkout does
  // not have. The browser bundle compiles their sources instead.
  resolve: { conditions: ['module', 'browser'] },
  logLevel: 'warn',
  server: {
    host: '127.0.0.1',
    proxy: {
      '/users': gateway,
      '/login': gateway,
      '/logout': gateway,
      '/oauth': gateway,
      '/orders': { target: gateway, ws: true }
    }
  }
} satisfies UserConfig

export default config
