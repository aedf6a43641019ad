# The NLU pipeline's sentence encoder (bot/components/sentence_encoder.py) is the FAQ search's
# ONNX export of all-MiniLM-L6-v2: exported by the same steps as in docker/crm.Dockerfile (the
# build cache shares those layers), then the file and its tokenizer are copied to /encoder.
FROM python:3.11-slim AS encoder
WORKDIR /app
ENV PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 FAQ_ENCODER_CACHE=/app/.cache/encoders
COPY requirements/crm.lock requirements/crm.lock
RUN pip install --no-cache-dir "torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu \
 && pip install --no-cache-dir -r requirements/crm.lock
COPY faq/__init__.py faq/__init__.py
COPY faq/search faq/search
RUN python -m faq.search.export_encoder
RUN mkdir /encoder && python -c "import shutil; from faq.search.onnx_model import ensure_exported, model_path; \
shutil.copy(ensure_exported(), '/encoder/model.onnx'); shutil.copy(model_path() / 'tokenizer.json', '/encoder/')"

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
# Training copies the encoder into the model, so the running container needs no other file.
COPY --from=encoder /encoder /tmp/encoder
RUN BOT_ENCODER_ONNX=/tmp/encoder/model.onnx BOT_ENCODER_TOKENIZER=/tmp/encoder/tokenizer.json \
    python -m rasa train --fixed-model-name current --out models
EXPOSE 5005
# rasa_server.py is `rasa` with Rasa 3.6's per-call schema check of action answers built once.
# The HTTP API takes the CRM's pushes (agent replies, typing): it runs with --auth-token, read
# from RASA_AUTH_TOKEN at start (never baked into the image); without it the container stops.
CMD ["sh", "-c", ": \"${RASA_AUTH_TOKEN:?set RASA_AUTH_TOKEN}\" && exec python rasa_server.py run --enable-api \
     --cors '*' --model models/current.tar.gz --endpoints endpoints.yml --credentials credentials.yml \
     --port 5005 --auth-token \"$RASA_AUTH_TOKEN\""]

FROM base AS actions
EXPOSE 5055
CMD ["python", "-m", "rasa_sdk", "--actions", "actions", "--port", "5055"]
