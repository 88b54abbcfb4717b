#!/usr/bin/env bash
# Installs llama-cpp-python into the given virtual environment, built for a portable x86-64 CPU.
#
# llama-cpp-python ships no wheel for Linux, and its default build (GGML_NATIVE=ON) uses every
# instruction set the build machine's CPU advertises. Virtual machines advertise some they refuse
# (AVX-512, AMX), so a native build dies with "Illegal instruction" on its first batched decode.
# This script builds with pinned flags (AVX2, FMA, F16C, BMI2: every x86-64 CPU since 2013) and
# keeps the wheel in a folder keyed by the version and the flags, so a wheel that pip cached from
# another configuration is never reused.
#
# Usage: scripts/install-llama.sh VENV_PYTHON
set -euo pipefail
PY=${1:?usage: install-llama.sh VENV_PYTHON}
VERSION=0.3.36
FLAGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON \
-DGGML_AVX_VNNI=OFF -DGGML_AVX512=OFF -DGGML_AVX512_VBMI=OFF -DGGML_AVX512_VNNI=OFF \
-DGGML_AVX512_BF16=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
KEY=$(printf '%s %s' "$VERSION" "$FLAGS" | sha256sum | cut -c1-12)
WHEELS=${EMOETHICS_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/emoethics/wheels}/llama-cpp-python-$VERSION-$KEY

# The installed build is ours when its marker names these flags and the CPU library it was written
# for (a wheel installed over it from elsewhere replaces the library).
pkg=$("$PY" -c "import importlib.util as u; s = u.find_spec('llama_cpp'); print(s.submodule_search_locations[0] if s else '')" 2>/dev/null || true)
stamp() { printf '%s %s' "$KEY" "$(sha256sum "$pkg/lib/libggml-cpu.so" 2>/dev/null | cut -c1-16)"; }
if [[ -n "$pkg" && -f "$pkg/emoethics-build-key" && "$(cat "$pkg/emoethics-build-key")" == "$(stamp)" ]]; then
  exit 0
fi

echo "==> llama-cpp-python $VERSION for any x86-64 CPU, built with: $FLAGS"
if ! ls "$WHEELS"/llama_cpp_python-"$VERSION"-*.whl >/dev/null 2>&1; then
  echo "    compiling (5-10 minutes on 2 cores; kept in $WHEELS)"
  mkdir -p "$WHEELS"
  rm -rf "$WHEELS.tmp"
  log="$WHEELS/build.log"
  # --no-cache-dir: pip's own wheel cache is keyed without CMAKE_ARGS, so it is neither read nor fed.
  if ! CMAKE_ARGS="$FLAGS" FORCE_CMAKE=1 "$PY" -m pip wheel --no-cache-dir --no-deps \
       --no-binary llama-cpp-python "llama-cpp-python==$VERSION" -w "$WHEELS.tmp" >"$log" 2>&1; then
    tail -20 "$log" >&2
    echo "error: building llama-cpp-python failed (a C/C++ compiler and cmake are needed); log: $log" >&2
    exit 1
  fi
  mv "$WHEELS.tmp"/*.whl "$WHEELS"/ && rmdir "$WHEELS.tmp"
  printf '%s\n' "$FLAGS" >"$WHEELS/flags.txt"
fi
wheel=$(ls "$WHEELS"/llama_cpp_python-"$VERSION"-*.whl | head -1)
"$PY" -m pip install -qq --no-deps --force-reinstall "$wheel"
"$PY" -m pip install -qq "$wheel"  # its dependencies (numpy, jinja2, diskcache, typing-extensions)
pkg=$("$PY" -c "import importlib.util as u; print(u.find_spec('llama_cpp').submodule_search_locations[0])")
stamp >"$pkg/emoethics-build-key"
