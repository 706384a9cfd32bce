# Multi-stage build of the `platform` binary. Not run here (no Docker engine on the build
# machine): kept correct by reading; see README.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin platform

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --home-dir /app platform
COPY --from=build /src/target/release/platform /usr/local/bin/platform
USER platform
WORKDIR /app
ENV BIND_ADDR=0.0.0.0:8000 \
    APP_PROFILE=prod \
    LOG_FORMAT=json
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=5 \
  CMD curl -fsS http://127.0.0.1:8000/healthz || exit 1
ENTRYPOINT ["platform"]
CMD ["serve"]
