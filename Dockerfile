# Dockerfile: the slotd image for the seed's docker-compose setup (docker-compose.yml):
# slotd as /usr/local/bin/slotd, plus redis-tools (redis-cli for `--cluster create` and health
# checks, redis-benchmark). Build: `docker build -t slotd .`
#
# slotd runs on io_uring, which Docker's default seccomp profile refuses since Docker 25
# (io_uring_setup fails with EPERM): run it with `--security-opt seccomp=unconfined` (the
# compose files set it), e.g. a single node on the host's network:
#   docker run --rm --network host --security-opt seccomp=unconfined \
#     -v "$PWD/conf/redis-master-1.conf:/etc/slotd/redis.conf:ro" slotd

FROM rust:1-bookworm AS build
WORKDIR /src
# Only what `cargo build` reads: the manifest, the lock file, the sources, and the bench
# targets Cargo.toml declares (cargo refuses a manifest whose target files are missing).
# glommio's build script calls git and compiles liburing with cc: both are in this image.
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY benches ./benches
RUN cargo build --release --locked --bin slotd

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends redis-tools \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/slotd /usr/local/bin/slotd
# The commented example config is the default; the compose files mount each node's own.
COPY conf/slotd.conf /etc/slotd/redis.conf
# As in the redis image: the working directory (`dir ./`) holds nodes.conf and the AOF.
WORKDIR /data
VOLUME /data
CMD ["slotd", "/etc/slotd/redis.conf"]
