# syntax=docker/dockerfile:1
# Rasa 3.6 server with the trained model baked in: one image per model, so upgrading the model
# is a new image and a rolling update (deploy/README.md). Build from the repository root:
#   docker build -f deploy/docker/rasa.Dockerfile -t yibao/rasa:<tag> .
# Stages: deps (the pinned Rasa set; a compiler for the few packages without a wheel), train
# (bot/ -> model, as `make train` does), runtime (venv + bot/ + model; no compiler, non-root).
# No secret is read at build time: RASA_TOKEN, DATABASE_URL and REDIS_URL come at run time.
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS deps
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/rasa
COPY bot/requirements-rasa.txt bot/requirements-bot.txt /tmp/requirements/
# Rasa 3.6.21 declares Python <3.11; the pinned set is known to work on 3.11 (see Makefile).
RUN /opt/rasa/bin/pip install -q -U pip \
    && /opt/rasa/bin/pip install -q --no-deps --ignore-requires-python \
        -r /tmp/requirements/requirements-rasa.txt \
    && /opt/rasa/bin/pip install -q --no-deps -r /tmp/requirements/requirements-bot.txt

FROM deps AS train
ENV RASA_TELEMETRY_ENABLED=false \
    TQDM_DISABLE=1
WORKDIR /app
COPY bot/ bot/
# train.py writes bot/models/<content hash>.tar.gz and links current.tar.gz to it.
RUN /opt/rasa/bin/python bot/scripts/train.py --rasa /opt/rasa/bin/rasa \
    && cp -L bot/models/current.tar.gz /tmp/model.tar.gz

FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/rasa/bin:$PATH \
    PYTHONPATH=/app/bot \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    MPLCONFIGDIR=/tmp/matplotlib \
    RASA_TELEMETRY_ENABLED=false
RUN groupadd --system --gid 10001 yibao \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin yibao
COPY --from=deps /opt/rasa /opt/rasa
WORKDIR /app
# bot/components holds the custom NLU components, tracker store and lock store (PYTHONPATH).
COPY bot/ bot/
COPY --from=train /tmp/model.tar.gz bot/models/current.tar.gz
COPY deploy/docker/healthcheck.py /usr/local/bin/healthcheck.py
USER 10001:10001
EXPOSE 5005
# bot/scripts/serve.py is `rasa` as make run starts it (parse cache, this turn's events to the
# action server, warm-up) and takes the API token from RASA_TOKEN, off the command line.
# bot/endpoints-cluster.yml reads DATABASE_URL, REDIS_URL and ACTION_SERVER_URL.
CMD ["python", "bot/scripts/serve.py", "run", "-m", "bot/models/current.tar.gz", "--enable-api", "--interface", "0.0.0.0", "--port", "5005", "--endpoints", "bot/endpoints-cluster.yml", "--credentials", "bot/credentials.yml"]
