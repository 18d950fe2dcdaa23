# Images of the platform. Production: one small image per service, built JavaScript run by
# plain node with production dependencies only, as an unprivileged user, with a HEALTHCHECK:
#
#   docker build --target user-service    -t order-platform/user-service .
#   docker build --target order-service   -t order-platform/order-service .     (also the relay: node dist/relay.js)
#   docker build --target order-processor -t order-platform/order-processor .
#   docker build --target web             -t order-platform/web .
#
# The last stage (the default target, `tools`) is the whole workspace with tsx, as on a
# laptop: compose.yaml runs every process from it, and it runs the migrations
# (`node --import tsx scripts/migrate.ts up`; deploy/k8s's migration Job). doc/operations.md.

# Stage 1: the sources (.dockerignore keeps the host's node_modules, builds and test output
# out of the context), plus the manifests alone (every workspace package of
# pnpm-workspace.yaml: packages/*, scripts/system, tools/*), so the dependency layer below is
# rebuilt only when a manifest changes.
FROM node:20-bookworm-slim AS sources
WORKDIR /src
COPY . .
# chmod: files that are private to their owner in the checkout must be readable by the
# unprivileged user the processes run as.
RUN chmod -R a+rX . \
 && mkdir /manifests \
 && cp package.json pnpm-lock.yaml pnpm-workspace.yaml /manifests/ \
 && find packages scripts tools -mindepth 2 -maxdepth 2 -name package.json -exec cp --parents {} /manifests/ \;

# Stage 2: install, build (`pnpm build`: tsc to dist/, Vite for the web app) and cut one
# folder per service with `pnpm deploy --prod`: the service's dist/, its production
# dependencies, and the workspace packages it uses (their dist/ only; `files` in each manifest).
FROM node:20-bookworm-slim AS build
# argon2 (password hashing) compiles its native addon during `pnpm install`.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
RUN npm install -g pnpm@12.4.2
WORKDIR /app
COPY --from=sources /manifests/ ./
RUN pnpm install --frozen-lockfile
COPY --from=sources /src/ ./
RUN pnpm build \
 && for service in user-service order-service order-processor web; do \
      pnpm --filter "@orders/$service" deploy --prod "/deploy/$service" || exit 1; \
    done

# What every production image shares. --conditions=production makes the workspace packages'
# `exports` resolve to their dist/ (see packages/platform/package.json).
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    NODE_OPTIONS=--conditions=production \
    HOST=0.0.0.0
WORKDIR /app
# The files belong to root and are only readable by the process: it runs as `node` and may
# run with a read-only root filesystem (deploy/k8s).
USER node
# PORT is each service's own (doc/ports-and-env.md); /healthz answers 200 while it takes requests.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/healthz`).then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

FROM runtime AS user-service
COPY --from=build /deploy/user-service ./
ENV PORT=3001
EXPOSE 3001
CMD ["node", "dist/server.js"]

FROM runtime AS order-service
COPY --from=build /deploy/order-service ./
ENV PORT=3002
EXPOSE 3002
CMD ["node", "dist/server.js"]

FROM runtime AS order-processor
COPY --from=build /deploy/order-processor ./
ENV PORT=3005
EXPOSE 3005
CMD ["node", "dist/server.js"]

FROM runtime AS web
COPY --from=build /deploy/web ./
# Serve the image's build as it is: never build on start (Vite is then never loaded).
ENV PORT=3006 \
    WEB_BUILD=never
EXPOSE 3006
CMD ["node", "dist-server/server.js"]

# The default target: the workspace with every dependency and tsx (compose.yaml, migrations).
FROM build AS tools
USER node
ENV HOST=0.0.0.0
CMD ["node", "--import", "tsx", "scripts/migrate.ts", "status"]
