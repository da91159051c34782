#!/usr/bin/env bash
# Creates the Python virtual environment the container-component tests run on (.venv-test at the repo root),
# from the machine's local wheel mirror when it has one. `.ci/run` calls it before `npm test`; run it by hand
# after a fresh clone to run those tests locally. Idempotent: an existing venv with the packages is kept.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=.venv-test
PACKAGES=(numpy scikit-learn onnx onnxruntime torch pyarrow protobuf jinja2)
INDEX=${MLP_TEST_PIP_INDEX:-file:///opt/pypi/simple}
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
if "$VENV/bin/python" -c 'import numpy, sklearn, onnx, onnxruntime, torch, pyarrow, google.protobuf, jinja2' 2>/dev/null; then
  echo "python-venv: $VENV already has ${PACKAGES[*]}"
  exit 0
fi
# Only the mirror: pip would otherwise try the unreachable public index first and stall for minutes.
"$VENV/bin/pip" install --quiet --disable-pip-version-check --index-url "$INDEX" "${PACKAGES[@]}"
"$VENV/bin/python" -c 'import numpy, sklearn, onnx, onnxruntime, torch; print("python-venv: ready", torch.__version__, sklearn.__version__, onnxruntime.__version__)'
