# The production image: the README's install steps, run as a non-root user.
# The encryption key and session secret come from the environment (or a mounted key file).
# /data is made here, owned by that user: a volume mounted there starts with its owner and mode.
FROM python:3.11-slim

RUN apt-get update \
 && apt-get install -y --no-install-recommends make nodejs npm fonts-noto-core fonts-noto-cjk \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 incidents \
 && mkdir /data && chown incidents:incidents /data && chmod 0700 /data

WORKDIR /app
COPY --chown=incidents:incidents . /app
USER incidents
RUN make install

ENV INCIDENTS_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8000
CMD [".venv/bin/incidents", "serve", "--host", "0.0.0.0", "--port", "8000"]
