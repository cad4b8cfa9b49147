# The StreamSpace server image the Helm chart runs (not built in CI here: these machines have no Docker engine).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY . .
RUN npm ci && npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends git openssl ca-certificates && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app /app
ENV NODE_ENV=production STREAMSPACE_DATA_DIR=/data PORT=8080
USER 1000
EXPOSE 8080
CMD ["node", "server/dist/server/src/main.js"]
