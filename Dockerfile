# One image for every Node process of the platform (services, relay, processor, migrations,
# the web app); compose.yaml picks the entry point: `node --import tsx <entry point>`, as on
# a laptop.
#
#   docker compose up --build        (the whole platform; see compose.yaml)

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

FROM node:20-bookworm-slim
# argon2 (password hashing) compiles its native addon during `pnpm install`.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
RUN npm install -g pnpm@12.4.2

WORKDIR /app
COPY --from=sources /manifests/ ./
# tsx runs the TypeScript sources; it is a (root) devDependency, so dev dependencies stay.
RUN pnpm install --frozen-lockfile
COPY --from=sources /src/ ./
# The web app's browser bundle (packages/web/dist), built once here: the web server runs with
# WEB_BUILD=never (compose.yaml), since it could not write /app to build on start anyway.
RUN pnpm --filter @orders/web build

# The processes only read /app; they run as the image's unprivileged user.
USER node
ENV HOST=0.0.0.0
CMD ["node", "--import", "tsx", "scripts/migrate.ts", "status"]
