# syntax=docker/dockerfile:1
# Both services from one Dockerfile, one target each (the walkthrough in
# docs/kubernetes.md builds and loads them):
#   docker build --target user-service    -t shop/user-service:0.1.0 .
#   docker build --target product-service -t shop/product-service:0.1.0 .
#
# The runtime image holds production dependencies and compiled output only,
# owned by root and run as uid 1000, so the app cannot change itself. It
# writes to nothing but /tmp and DATA_DIR (volumes in the pod), so it runs
# with readOnlyRootFilesystem. Node is PID 1, started in exec form with the
# tracing preload, so Kubernetes' SIGTERM reaches it directly (no shell or
# npm in between to swallow it). test/production-install.test.ts installs
# and starts the app the same way, without Docker.

# Node 24 LTS. Pin the digest too when you build releases.
# test/production-install.test.ts installs and runs the app on exactly this
# version (it reads it from here). Note: better-sqlite3 12, which the Node 20
# dev machines need, aborts on Node 24.19+ when the GC finalizes its objects;
# services/shared/sql/sqlite-client.ts never lets them become garbage.
ARG NODE_IMAGE=node:24.21.0-bookworm-slim

# Everything npm ci needs, including a compiler for better-sqlite3 when no
# prebuilt binary matches the platform.
FROM ${NODE_IMAGE} AS toolchain
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./

FROM toolchain AS build
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY services ./services
RUN npx tsc -p tsconfig.build.json

FROM toolchain AS production-dependencies
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    DATA_DIR=/data
WORKDIR /app
COPY --from=production-dependencies /app/node_modules ./node_modules
COPY --from=build /app/dist/services ./dist/services
# "type": "module" for dist/, and the default service.version.
COPY package.json ./
# SQLite's folder when no volume is mounted (the local overlay mounts one).
RUN mkdir /data && chown 1000:1000 /data
# The base image's `node` user, by number so runAsNonRoot can verify it.
USER 1000:1000
# Prometheus metrics (METRICS_PORT).
EXPOSE 9464

FROM runtime AS user-service
EXPOSE 50051
CMD ["node", "--import", "./dist/services/user/preload.js", "dist/services/user/main.js"]

FROM runtime AS product-service
EXPOSE 50052
CMD ["node", "--import", "./dist/services/product/preload.js", "dist/services/product/main.js"]
