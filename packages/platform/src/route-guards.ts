import type { FastifyInstance, RouteOptions } from 'fastify'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Anyone may call this route, without a token (see requireRouteGuards). */
    public?: boolean
  }
}

/**
 * From here on every route must say who may call it: an `onRequest` guard (a token and scope
 * check) or `config: { public: true }`. A route with neither fails at registration, so a route
 * never becomes public because a line was forgotten.
 */
export function requireRouteGuards (app: FastifyInstance): void {
  app.addHook('onRoute', route => {
    if (!hasGuard(route) && route.config?.public !== true) {
      throw new Error(`${String(route.method)} ${route.url} does not say who may call it: ` +
        'give it an onRequest guard (e.g. app.requireScope(…)) or config: { public: true }')
    }
  })
}

function hasGuard (route: RouteOptions): boolean {
  const hooks = route.onRequest
  return Array.isArray(hooks) ? hooks.length > 0 : hooks !== undefined
}
