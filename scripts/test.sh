#!/usr/bin/env bash
# The test command: set up, build, run every test (the gpu-labelled ones skip, with the reason, without a GPU).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh "$@"
source scripts/env.sh
ctest --test-dir build --output-on-failure -j"$JOBS"
