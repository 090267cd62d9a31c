# The example bot's `serve`, as a container image.
#
#   docker build -t voice-agent .
#   docker run --rm -p 5050:5050 --env-file .env voice-agent
#
# Two stages: the workspace is built with the Rust toolchain's image; the runtime image
# is distroless (glibc, CA certificates, no shell, no package manager) and runs as the
# unprivileged `nonroot` user. SQLite is compiled into the binary (rusqlite's `bundled`),
# so nothing else is needed at run time.

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --example outbound_call \
    && install -D target/release/examples/outbound_call /out/outbound_call

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/outbound_call /app/outbound_call
WORKDIR /app
# Listen on every interface inside the container (the bot refuses this without
# TWILIO_AUTH_TOKEN and PUBLIC_URL, so an unsigned stream cannot reach it), reports and
# outcomes under /data (mount a volume there to keep them).
ENV BIND_ADDR=0.0.0.0 \
    PORT=5050 \
    OUTPUT_DIR=/data/out \
    RUST_LOG=info
USER nonroot
EXPOSE 5050
# SIGTERM (docker stop, Kubernetes) starts the drain: calls in progress go on up to
# DRAIN_TIMEOUT_SECS; give `docker stop --time` and terminationGracePeriodSeconds more.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/app/outbound_call"]
CMD ["serve"]
