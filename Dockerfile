# syntax=docker/dockerfile:1
# Gatehouse's container image (README, "Container image"):
#   docker build --build-arg GIT_REVISION=$(git rev-parse --short=12 HEAD) -t gatehouse .
#   docker run -p 8080:8080 -v gatehouse-data:/var/lib/gatehouse gatehouse
# The image holds the binary, the C libraries it links (glibc, libgcc, OpenSSL's libssl and
# libcrypto) and nothing else: no shell,
# no package manager. It runs as the unprivileged user gatehouse (10001).

ARG RUST_IMAGE=docker.io/library/rust:1.95-slim-bookworm

FROM ${RUST_IMAGE} AS build
WORKDIR /src
COPY . .
# .git stays out of the build context, so the revision for `gatehouse --version` comes from here.
ARG GIT_REVISION=unknown
# JWE (josekit) links the system's OpenSSL: its headers, and pkg-config to find them. The official
# rust:slim image has neither; the stand-in our CI builds with has both.
RUN if ! pkg-config --exists openssl 2>/dev/null; then \
      apt-get update && apt-get install -y --no-install-recommends pkg-config libssl-dev \
      && rm -rf /var/lib/apt/lists/*; \
    fi
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    BUILD_GIT_REVISION="$GIT_REVISION" cargo build --release --locked -p gatehouse --bin gatehouse \
 && install -D -m 755 target/release/gatehouse /rootfs/usr/local/bin/gatehouse
# The runtime filesystem: the shared libraries the binary names (ldd), with the loader; a
# passwd entry for its user; a sticky /tmp for SQLite's temporary files; the default config.
COPY packaging/container.toml /rootfs/etc/gatehouse/gatehouse.toml
RUN set -eu; \
    for lib in $(ldd /rootfs/usr/local/bin/gatehouse | grep -o '/[^ ]*'); do cp --parents -L "$lib" /rootfs; done; \
    echo 'gatehouse:x:10001:10001:Gatehouse:/var/lib/gatehouse:/nonexistent' > /rootfs/etc/passwd; \
    echo 'gatehouse:x:10001:' > /rootfs/etc/group; \
    mkdir -p -m 1777 /rootfs/tmp; \
    mkdir -p /data/var/lib/gatehouse; \
    /rootfs/usr/local/bin/gatehouse --version

FROM scratch
ARG GIT_REVISION=unknown
LABEL org.opencontainers.image.title="Gatehouse" \
      org.opencontainers.image.description="OpenID Connect provider and OAuth 2.0 authorization server" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.revision="${GIT_REVISION}"
COPY --from=build /rootfs/ /
COPY --from=build --chown=10001:10001 /data/ /
USER 10001:10001
WORKDIR /var/lib/gatehouse
ENV GATEHOUSE_CONFIG=/etc/gatehouse/gatehouse.toml
VOLUME ["/var/lib/gatehouse"]
EXPOSE 8080
# SIGTERM (docker stop) stops it gracefully: in-flight requests finish.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/gatehouse"]
CMD ["serve"]
