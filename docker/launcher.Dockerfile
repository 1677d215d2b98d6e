# Dataflow Flex Template launcher: submits build-corpus with the worker image above.
# Build from the repository root:  docker build -f docker/launcher.Dockerfile -t REGISTRY/webtext-launcher:0.1.0 .
FROM gcr.io/dataflow-templates-base/python311-template-launcher-base

WORKDIR /template
COPY docker/requirements.lock docker/requirements.lock
RUN pip install --no-cache-dir -r docker/requirements.lock
COPY pyproject.toml README.md ./
COPY webtext webtext
COPY pipeline pipeline
COPY tokenizer tokenizer
COPY train train
COPY docker/flex_main.py flex_main.py
RUN pip install --no-cache-dir --no-deps .
ENV FLEX_TEMPLATE_PYTHON_PY_FILE=/template/flex_main.py
