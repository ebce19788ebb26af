#!/usr/bin/env bash
# Run HERE, before a device call: downloads (does not install) the Debian packages that the build needs beyond a
# compiler and the CUDA toolkit into .deps/ (git-ignored, ~2.5 MB), for the lent GPU machine, which reaches no
# package registry. Name .deps in the device call's `carry`; scripts/gpu-check.sh unpacks them into a private
# prefix there (never into /) and builds against it.
set -euo pipefail
cd "$(dirname "$0")/.."
packages=(libgtest-dev libbenchmark-dev libbenchmark1debian libjpeg62-turbo-dev libjpeg62-turbo libpng-dev
  libpng16-16 zlib1g-dev zlib1g)
mkdir -p .deps
cd .deps
rm -f ./*.deb
apt-get download "${packages[@]}" 2>&1 | grep -v "^W: Download is performed unsandboxed" || true
ls -1 ./*.deb | wc -l | xargs echo "gpu-deps: packages in .deps:"
