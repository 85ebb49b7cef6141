# callerid-mock as a container: a static binary in an empty image.
# (The container test, healthcheck wiring checks and the documented image size come with the
# "Ship it" issue.)

FROM rust:1-bookworm AS builder
WORKDIR /src
COPY . .
ENV RUSTFLAGS="-C target-feature=+crt-static"
RUN cargo build --release --locked --target x86_64-unknown-linux-gnu \
 && cp target/x86_64-unknown-linux-gnu/release/callerid-mock /callerid-mock

FROM scratch
COPY --from=builder /callerid-mock /callerid-mock
USER 65534:65534
EXPOSE 8484
ENV CALLERID_MOCK_BIND=0.0.0.0:8484
HEALTHCHECK --interval=5s --timeout=3s --retries=3 CMD ["/callerid-mock", "healthcheck"]
ENTRYPOINT ["/callerid-mock"]
