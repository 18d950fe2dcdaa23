/**
 * The web app's HTTP side: the Vite build of the browser app as static files, index.html
 * for every page path (the app routes in the browser), health and readiness. HAProxy sends
 * here whatever is not an API path, so this server and the API share one origin.
 */
import { access } from 'node:fs/promises'
import path from 'node:path'
import type { FastifyInstance } from 'fastify'
import helmet from '@fastify/helmet'
import fastifyStatic from '@fastify/static'
import { healthRoutes, installErrorHandler } from '@orders/platform'

export interface WebAppOptions {
  /** The directory with index.html and assets/ (the Vite build). */
  root: string
}

/** Vite puts a content hash in every file name under assets/, so they never change. */
const IMMUTABLE = 'public, max-age=31536000, immutable'

export default async function webApp (app: FastifyInstance, { root }: WebAppOptions): Promise<void> {
  const indexHtml = path.join(root, 'index.html')
  installErrorHandler(app, { notFoundHandler: false }) // its own below: page paths are index.html

  await app.register(helmet, {
    contentSecurityPolicy: {
      directives: {
        // Only the app's own script and styles; the API and the WebSocket are same-origin.
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        upgradeInsecureRequests: null
      }
    },
    // Plain http on a laptop: do not tell browsers to insist on https for 127.0.0.1.
    strictTransportSecurity: false
  })

  await app.register(healthRoutes, { checks: { build: async () => { await access(indexHtml) } } })

  await app.register(fastifyStatic, {
    root,
    setHeaders (reply, filePath) {
      // index.html is revalidated every time, so a new build is picked up at once.
      void reply.header('cache-control', filePath.startsWith(path.join(root, 'assets') + path.sep) ? IMMUTABLE : 'no-cache')
    }
  })

  // Every page path of the app (/, /sign-in, /my-orders/…) is index.html; a missing file
  // (a path with an extension such as /assets/old.js or /favicon.ico) is a real 404.
  app.setNotFoundHandler(async (request, reply) => {
    const pagePath = (request.method === 'GET' || request.method === 'HEAD') && !path.extname(request.url.split('?')[0] ?? '')
    if (!pagePath) return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `${request.method} ${request.url.split('?')[0]} not found` })
    return reply.header('cache-control', 'no-cache').sendFile('index.html')
  })
}
