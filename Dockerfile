# callerid-mock in a container: a static glibc binary in an empty image.
#
#   docker build -t callerid-mock .
#   docker run --rm -p 8484:8484 callerid-mock --seed 1 --frozen-clock
#
# The builder stage compiles with crt-static for x86_64-unknown-linux-gnu; the runtime stage
# holds only that binary (it resolves localhost and host.docker.internal from /etc/hosts).
# tests/container/run.sh builds the runtime stage below from a locally built binary.

FROM rust:1-bookworm AS builder
WORKDIR /src
COPY . .
RUN RUSTFLAGS="-C target-feature=+crt-static" cargo build --release --locked --target x86_64-unknown-linux-gnu \
 && cp target/x86_64-unknown-linux-gnu/release/callerid-mock /callerid-mock

FROM scratch
COPY --from=builder /callerid-mock /callerid-mock
USER 65534:65534
ENV CALLERID_MOCK_BIND=0.0.0.0:8484
EXPOSE 8484
HEALTHCHECK --interval=2s --timeout=3s --start-period=5s --retries=3 CMD ["/callerid-mock", "healthcheck"]
ENTRYPOINT ["/callerid-mock"]
