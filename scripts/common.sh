# SPDX-License-Identifier: BSL-1.0
# Shared by scripts/run and scripts/test (sourced, not run).

# The build folder of a preset for the compiler in $CXX (g++ when unset), so that
# `CXX=clang++ scripts/test` and `scripts/test` keep separate builds side by side.
senet_build_dir() {
  local preset=$1 cxx=${CXX:-g++}
  echo "build/$(basename "$cxx")-$preset${SENET_STDEXEC_INCLUDE_DIR:+-stdexec}"
}

# Configures and builds one preset; further arguments go to the configure step (-DNAME=VALUE).
senet_build() {
  local preset=$1
  shift
  senet_configure "$preset" "$(senet_build_dir "$preset")" "$@"
  cmake --build "$(senet_build_dir "$preset")" -j "$(nproc)"
}

# Configures one preset in build folder `dir`, with the compilers of $CXX; further arguments go to
# the configure step (-DNAME=VALUE).
senet_configure() {
  local preset=$1 dir=$2
  shift 2
  local extra=("$@")
  if [ -n "${SENET_STDEXEC_INCLUDE_DIR:-}" ]; then
    extra+=("-DSENET_STDEXEC_INCLUDE_DIR=$SENET_STDEXEC_INCLUDE_DIR")
  fi
  export CXX=${CXX:-g++}
  case "$CXX" in
    *clang++*) export CC=${CC:-${CXX/clang++/clang}} ;;
    *g++*) export CC=${CC:-${CXX/g++/gcc}} ;;
  esac
  cmake --preset "$preset" -B "$dir" "${extra[@]}" >/dev/null
}
