# syntax=docker/dockerfile:1
# The application image: the channel gateway (default command, `python -m channels`) and the
# action server (`python -m actions.server --host 0.0.0.0 --port 5055`, set by
# deploy/compose and deploy/k8s). Build from the repository root:
#   docker build -f deploy/docker/app.Dockerfile -t yibao/app:<tag> .
# No secret is read at build time; every setting comes from the environment at run time.
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS deps
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/app
WORKDIR /src
COPY pyproject.toml ./
COPY knowledge/ knowledge/
COPY actions/ actions/
COPY channels/ channels/
# Installs the project's runtime dependencies (pyproject.toml), not the dev extras.
RUN /opt/app/bin/pip install -q -U pip \
    && /opt/app/bin/pip install -q .

FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/app/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    HOST=0.0.0.0 \
    PORT=8000
RUN groupadd --system --gid 10001 yibao \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin yibao
COPY --from=deps /opt/app /opt/app
# The processes run from the source tree (`python -m` puts the working directory first on
# sys.path), so every data file the packages read is there whatever package-data lists.
WORKDIR /app
COPY knowledge/ knowledge/
COPY actions/ actions/
COPY channels/ channels/
COPY deploy/docker/healthcheck.py /usr/local/bin/healthcheck.py
USER 10001:10001
# 8000: gateway (PORT), 5055: action server.
EXPOSE 8000 5055
CMD ["python", "-m", "channels"]
