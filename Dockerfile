# The StreamSpace platform image for people with Docker. `npm run image` (scripts/images/platform.sh) builds the
# same layout without a daemon and is what the tests run: /app/{package.json,node_modules,server/dist,
# server/dist-ide,client-admin/dist,client-portal/dist}, Node at /usr/local/bin/node, uid 1000, no embedded
# PostgreSQL (the chart runs its own PostgreSQL image or uses an external database).
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY . .
RUN npm ci && npm run build
# Production dependencies of the server only, the way platform.sh installs and prunes them.
RUN mkdir -p /out/app/server \
 && cp package.json package-lock.json /out/app/ \
 && for ws in server client-shared client-admin client-portal e2e; do mkdir -p /out/app/$ws && cp $ws/package.json /out/app/$ws/; done \
 && cd /out/app && npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && node /src/scripts/images/prune-deps.cjs /out/app \
 && find node_modules -maxdepth 2 -type l -delete \
 && rm -rf package-lock.json client-shared client-admin client-portal e2e \
 && cp -a /src/server/dist /src/server/dist-ide /out/app/server/ \
 && mkdir -p /out/app/client-admin /out/app/client-portal \
 && cp -a /src/client-admin/dist /out/app/client-admin/ && cp -a /src/client-portal/dist /out/app/client-portal/

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends git ca-certificates libstdc++6 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd -g 1000 streamspace && useradd -u 1000 -g 1000 -d /home/streamspace -m -s /usr/sbin/nologin streamspace \
 && mkdir -p /data && chown 1000:1000 /data
COPY --from=build /usr/local/bin/node /usr/local/bin/node
COPY --from=build /out/app /app
ARG STREAMSPACE_COMMIT=unknown
ARG STREAMSPACE_BUILD_DATE=unknown
LABEL org.opencontainers.image.title=StreamSpace org.opencontainers.image.revision=$STREAMSPACE_COMMIT \
      org.opencontainers.image.created=$STREAMSPACE_BUILD_DATE org.opencontainers.image.licenses=Apache-2.0
ENV NODE_ENV=production STREAMSPACE_DATA_DIR=/data PORT=8080 HOME=/home/streamspace \
    STREAMSPACE_COMMIT=$STREAMSPACE_COMMIT STREAMSPACE_BUILD_DATE=$STREAMSPACE_BUILD_DATE
WORKDIR /app
USER 1000:1000
EXPOSE 8080 8081
ENTRYPOINT ["/usr/local/bin/node"]
CMD ["server/dist/server/src/main.js"]
