# exptrackd container image.
#
#   docker build -t exptrack .          (or: podman build -t exptrack .)
#   docker compose up                   (exptrackd + PostgreSQL, see docker-compose.yml)
#
# The image runs exptrackd against an external PostgreSQL given by
# EXPTRACK_DATABASE_URL (or --database-url). It deliberately carries no
# PostgreSQL server, so the embedded mode (no database URL) is not available
# here: a container should keep its state in a database service, not inside
# itself. scripts/image-test.sh builds and smoke-tests this file with podman.
#
# HEALTHCHECK is part of the Docker image format only; podman/buildah keep it
# when building with --format docker (the OCI format drops it with a warning).

# ---------------------------------------------------------------------------
# Dashboard dependencies: the build embeds web/node_modules (uPlot, see
# cmake/web.cmake). A context that has it already (the developer loop and CI
# run `npm ci` in web/) is used as is; from a clean checkout it is fetched
# here with Debian's npm, pinned by web/package-lock.json. Own stage, so the
# node toolchain never reaches the compiler or runtime layers.
# ---------------------------------------------------------------------------
FROM debian:bookworm AS web

ARG DEBIAN_FRONTEND=noninteractive
WORKDIR /web
COPY web/ ./
RUN if [ -f node_modules/uplot/dist/uPlot.esm.js ] && [ -f node_modules/.package-lock.json ] \
        && [ ! package-lock.json -nt node_modules/.package-lock.json ]; then \
        echo "web/node_modules: taken from the build context"; \
    else \
        apt-get update \
        && apt-get install -y --no-install-recommends nodejs npm ca-certificates \
        && rm -rf node_modules \
        && npm ci --omit=dev --no-audit --no-fund --loglevel=error \
        && apt-get clean && rm -rf /var/lib/apt/lists/*; \
    fi

# ---------------------------------------------------------------------------
# Builder: compiles exptrackd in Release mode, and only it: not the test suite
# (cmocka and node have no place in an image build), not the client library
# and CLI, which the image does not ship.
# ---------------------------------------------------------------------------
FROM debian:bookworm AS build

ARG DEBIAN_FRONTEND=noninteractive
# Toolchain and -dev packages first, in a layer of their own, so that editing
# the sources does not re-run apt.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
        build-essential cmake pkg-config \
        libmicrohttpd-dev libpq-dev libjansson-dev uuid-dev libssl-dev libcurl4-openssl-dev \
        libprotobuf-c-dev protobuf-c-compiler zlib1g-dev \
 && apt-get clean && rm -rf /var/lib/apt/lists/*

WORKDIR /src
# .dockerignore keeps build trees, node_modules and VCS data out of the context.
# The build tree is removed in the same step: cached builder layers then cost
# the sources and one binary per build, not every object file.
COPY . .
COPY --from=web /web/node_modules/ web/node_modules/
RUN cmake -S . -B /tmp/build -DCMAKE_BUILD_TYPE=Release -DEXPTRACK_TESTS=OFF \
 && cmake --build /tmp/build --target exptrackd -j "$(nproc)" \
 && install -D -m 0755 /tmp/build/bin/exptrackd /out/usr/local/bin/exptrackd \
 && rm -rf /tmp/build

# ---------------------------------------------------------------------------
# Runtime: only the shared libraries exptrackd links against, CA certificates
# (TLS to a remote database), and curl for the HEALTHCHECK.
# ---------------------------------------------------------------------------
FROM debian:bookworm AS runtime

ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
        libmicrohttpd12 libpq5 libjansson4 libuuid1 libssl3 libcurl4 \
        libprotobuf-c1 zlib1g \
        ca-certificates curl \
 && apt-get clean && rm -rf /var/lib/apt/lists/*

# A fixed, non-root UID/GID so volume ownership and `--user` are predictable
# across rebuilds. Its home is the working directory, the only place it may write.
RUN groupadd --system --gid 10001 exptrack \
 && useradd --system --uid 10001 --gid exptrack --home-dir /var/lib/exptrack \
        --create-home --shell /usr/sbin/nologin exptrack

COPY --from=build /out/ /

# Listen on all interfaces: 127.0.0.1, exptrackd's default, is unreachable
# from outside a container. The data dir is only used by the embedded mode;
# pointing it at a writable place keeps an accidental run from failing on a
# read-only working directory.
ENV EXPTRACK_HOST=0.0.0.0 \
    EXPTRACK_PORT=5000 \
    EXPTRACK_DATA_DIR=/var/lib/exptrack/data

USER exptrack:exptrack
WORKDIR /var/lib/exptrack
EXPOSE 5000

# /health answers 200 "OK" only while the database answers. Shell form so that
# an overridden EXPTRACK_PORT is honoured.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD curl -fsS --max-time 4 "http://127.0.0.1:${EXPTRACK_PORT:-5000}/health" || exit 1

LABEL org.opencontainers.image.title="exptrack" \
      org.opencontainers.image.description="MLflow-compatible experiment-tracking server (exptrackd)"

ENTRYPOINT ["/usr/local/bin/exptrackd"]
