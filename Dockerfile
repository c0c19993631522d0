# lapor-bridge daemon image: slim, non-root, runs `bridge run`.
# Build:  docker build -t lapor-bridge .
# Run:    docker run --env-file bridge.env -v $PWD/bridge.toml:/etc/lapor-bridge/bridge.toml \
#                    -v lapor-bridge-data:/var/lib/lapor-bridge lapor-bridge
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    BRIDGE_CONFIG=/etc/lapor-bridge/bridge.toml

WORKDIR /opt/lapor-bridge
COPY pyproject.toml setup.py README.md constraints.txt ./
COPY bridge ./bridge
COPY connectors ./connectors
COPY mappings ./mappings
COPY config.example.toml ./
# Without extras: the simulators' web stack (FastAPI, uvicorn) stays out of the production image.
RUN pip install . -c constraints.txt \
 && useradd --system --uid 10001 --home-dir /var/lib/lapor-bridge --create-home bridge \
 && mkdir -p /etc/lapor-bridge \
 && cp config.example.toml /etc/lapor-bridge/bridge.toml \
 && cp -r mappings /etc/lapor-bridge/mappings
# Mapping paths are read from the configuration file's folder: the example names
# "mappings/lapor.toml", so the mappings sit beside it. Mount your own over either.

# The SQLite ledger lives on a volume; production points BRIDGE_LEDGER__URL at PostgreSQL.
# The state file (which ledger this bridge last wrote to) lives on the volume too, as
# /etc/lapor-bridge is not writable: keep the volume even with PostgreSQL, or a new
# container cannot tell a lost or restored ledger from a first run.
ENV BRIDGE_LEDGER__URL=sqlite:////var/lib/lapor-bridge/bridge.db \
    BRIDGE_LEDGER__STATE_FILE=/var/lib/lapor-bridge/.lapor-bridge-state.json
VOLUME ["/var/lib/lapor-bridge"]
# The HTTP server: /livez, /readyz, /metrics, /status. Publish it to the host only
# (-p 127.0.0.1:9108:9108); set BRIDGE_DAEMON__HTTP_USER/_PASSWORD to protect /status.
ENV BRIDGE_DAEMON__HTTP=0.0.0.0:9108
EXPOSE 9108
# No curl in the slim image: Python asks /livez (the process answers, nothing more).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:9108/livez', timeout=3)"]
USER bridge
ENTRYPOINT ["bridge"]
CMD ["run"]
