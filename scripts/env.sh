# Sourced by the scripts: puts the CUDA toolkit on PATH when it is installed in the usual place.
if ! command -v nvcc >/dev/null 2>&1 && [ -x /usr/local/cuda/bin/nvcc ]; then
  export PATH="$PATH:/usr/local/cuda/bin"
fi
JOBS=${JOBS:-$(nproc)}
