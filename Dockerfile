# incidentdb: one static-ish binary (SQLite and libpq are bundled), run as a non-root user.
#   docker build -t incidentdb .
#   docker run -p 8080:8080 -v incidentdb:/data incidentdb
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin incidentdb

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /data --create-home incidentdb
COPY --from=build /src/target/release/incidentdb /usr/local/bin/incidentdb
USER incidentdb
WORKDIR /data
ENV DATABASE_URL=sqlite:///data/incidents.db \
    BIND=0.0.0.0:8080
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s \
  CMD curl -sf http://127.0.0.1:8080/readyz || exit 1
ENTRYPOINT ["incidentdb"]
CMD ["serve"]
