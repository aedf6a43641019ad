# Rasa server and action server share this image: Python 3.10 (Rasa 3.6 needs it).
FROM python:3.10-slim AS base
WORKDIR /app
ENV PYTHONUNBUFFERED=1 RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2
COPY requirements/bot.lock requirements/bot.lock
RUN pip install --no-cache-dir -r requirements/bot.lock
COPY actions actions
COPY bot bot

# The model is trained into the image, so a running container never trains.
FROM base AS rasa
WORKDIR /app/bot
RUN python -m rasa train --fixed-model-name current --out models
EXPOSE 5005
# rasa_server.py is `rasa` with Rasa 3.6's per-call schema check of action answers built once.
CMD ["python", "rasa_server.py", "run", "--enable-api", "--cors", "*", "--model", "models/current.tar.gz", \
     "--endpoints", "endpoints.yml", "--credentials", "credentials.yml", "--port", "5005"]

FROM base AS actions
EXPOSE 5055
CMD ["python", "-m", "rasa_sdk", "--actions", "actions", "--port", "5055"]
