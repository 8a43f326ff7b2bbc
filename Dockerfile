# syntax=docker/dockerfile:1
#
# The executor image: one image for every role. `docker run IMAGE` serves an executor tier (Cloud
# Run's contract: listen on $PORT, exit 0 on SIGTERM); docker-compose.yml runs the emulator and the
# webhook receiver from the same image with other commands.
#
#   docker build -t executor .
#   docker run --rm -p 8080:8080 -e WORKER_MODULE=demo -e AUTH_DISABLED=true executor
#
# Stage 1 compiles TypeScript with the dev dependencies; stage 2 holds only the compiled code, the
# files it reads at runtime and the production dependencies.

# The current LTS; package.json `engines` allows 22.19 and later (undici 8 needs it).
ARG NODE_VERSION=24

# ---- build: dev dependencies + tsc ----------------------------------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
# Manifests first: the dependency layer is reused until they change.
COPY package.json package-lock.json ./
# --ignore-scripts: the package's `prepare` (a build) needs src/, which is copied below.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---- runtime: production dependencies only, non-root ---------------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
# tini as PID 1: forwards SIGTERM to node and reaps the orphans a WORKER_COMMAND may leave behind
# (node itself does not reap processes it did not start).
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# Read at runtime: the wire format (the codec loads proto/work.proto relative to dist/) and the
# local stack's queues file (the default of `executor dev`; compose mounts its own copy).
COPY proto ./proto
COPY local ./local
# The `node` user (uid 1000) comes with the official image; the app files stay root-owned, read-only to it.
USER node
EXPOSE 8080
ENTRYPOINT ["/usr/bin/tini", "--"]
# node directly, not `npm start`/`npx`: npm does not forward SIGTERM, and Cloud Run's graceful
# shutdown depends on the executor receiving it.
CMD ["node", "dist/cli.js", "serve"]
