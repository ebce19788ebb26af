# Sourced on the lent GPU machine (by scripts/gpu-check.sh; source it before bench/certify_throughput.sh in a
# later call on the same machine): makes the build's dependencies findable there and says what the machine has.
#   - the Debian packages carried in .deps (scripts/gpu-deps.sh, run beforehand on the development machine),
#     unpacked into a private prefix, never into /;
#   - cuDNN: the toolkit's if it has one, else the one in python3's nvidia-cudnn wheel (PyTorch's).
# Sets GPU_CMAKE_FLAGS (an array) for the configure step and prints a short probe of the machine.
GPU_CMAKE_FLAGS=()
sc_deps=/tmp/smoothcuda-deps
if compgen -G ".deps/*.deb" >/dev/null; then
  rm -rf "$sc_deps" && mkdir -p "$sc_deps"
  for f in .deps/*.deb; do dpkg -x "$f" "$sc_deps"; done
  GPU_CMAKE_FLAGS+=("-DCMAKE_PREFIX_PATH=$sc_deps/usr")
  export LD_LIBRARY_PATH="$sc_deps/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  # Debian keeps some headers (libjpeg's jconfig.h) in the multiarch folder, which CMake's finders do not add.
  export CPATH="$sc_deps/usr/include/x86_64-linux-gnu:$sc_deps/usr/include${CPATH:+:$CPATH}"
fi
sc_cudnn=$(ls /usr/local/cuda/include/cudnn.h /usr/include/cudnn.h /usr/include/x86_64-linux-gnu/cudnn.h 2>/dev/null |
  head -1)
if [ -z "$sc_cudnn" ]; then
  sc_wheel=$(python3 -c "import nvidia.cudnn as m; print(list(m.__path__)[0])" 2>/dev/null || true)
  if [ -n "$sc_wheel" ] && [ -f "$sc_wheel/include/cudnn.h" ]; then
    mkdir -p /tmp/smoothcuda-cudnn
    ln -sf "$sc_wheel"/lib/libcudnn*.so.* /tmp/smoothcuda-cudnn/
    ln -sf "$(ls "$sc_wheel"/lib/libcudnn.so.[0-9]* | head -1)" /tmp/smoothcuda-cudnn/libcudnn.so
    GPU_CMAKE_FLAGS+=("-DCUDNN_INCLUDE_DIR=$sc_wheel/include" "-DCUDNN_LIBRARY=/tmp/smoothcuda-cudnn/libcudnn.so")
    export LD_LIBRARY_PATH="/tmp/smoothcuda-cudnn:$sc_wheel/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    sc_cudnn="$sc_wheel/include/cudnn.h (python wheel)"
  fi
fi
{
  echo "probe: $(g++ --version 2>&1 | head -1) | $(cmake --version 2>&1 | head -1) | $(nvcc --version 2>&1 | tail -1)"
  echo "probe: cudnn.h: ${sc_cudnn:-NOT FOUND} | carried packages: $(ls .deps/*.deb 2>/dev/null | wc -l)"
  echo "probe: cuBLAS/cuRAND libraries: $(ls /usr/local/cuda/lib64/libcublas.so /usr/local/cuda/lib64/libcurand.so 2>&1 |
    tr '\n' ' ')"
  echo "probe: $(python3 -c 'import torch; print("torch", torch.__version__, torch.cuda.get_device_name(0))' 2>&1 | tail -1)"
} 2>&1
