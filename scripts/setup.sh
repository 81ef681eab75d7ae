#!/usr/bin/env bash
# scripts/setup.sh — install what is missing (Debian bookworm) and build one build type.
#
#   scripts/setup.sh release [targets...]   build/release: Release, no tests (what scripts/start.sh runs)
#   scripts/setup.sh asan    [targets...]   build/asan:    Debug + AddressSanitizer/UBSan, tests (scripts/test.sh)
#   scripts/setup.sh debug   [targets...]   build/debug:   Debug, tests, no sanitizers
#   scripts/setup.sh deps                   only check/install the system packages
#
# Packages are checked with dpkg-query first; apt-get runs only when something is missing (as root, or through
# sudo when available). Builds use Ninja and ccache (CCACHE_BASEDIR = repo root and CCACHE_NOHASHDIR, so ccache hits
# survive a clone elsewhere, as CI's is: without NOHASHDIR ccache hashes the build directory of every -g compile).
#
# Environment:
#   PASSERELLE_JOBS        parallel build jobs, default $(nproc)
#   PASSERELLE_KEEP_GOING  1: build every target that can be built even when one fails (ninja -k 0); the exit
#                          status is still the build's. scripts/test.sh uses it so one broken module does not hide
#                          the test results of the others.
#   PASSERELLE_CMAKE_ARGS  extra arguments for the CMake configure step (word-split)
set -euo pipefail

readonly ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

log() { printf 'setup.sh: %s\n' "$*" >&2; }
die() { printf 'setup.sh: error: %s\n' "$*" >&2; exit 1; }

readonly PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost-dev libboost-system-dev librdkafka-dev libprotobuf-dev protobuf-compiler catch2
  libssl-dev librocksdb-dev libyaml-cpp-dev rapidjson-dev libpugixml-dev libqrencode-dev
  clang clang-tidy clang-format libclang-rt-14-dev
  default-jdk-headless maven curl
)

installed() { [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == "install ok installed" ]]; }

# Kafka 3.9 needs Java 11 or later; any installed JDK/JRE of that age will do (Debian's default-jdk-headless is
# only one way to get it, e.g. openjdk-17-jdk-headless installed directly is as good).
java_ok() {
  command -v java >/dev/null || return 1
  local v
  v="$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)"
  [[ -n "${v}" ]] && ((v >= 11))
}

install_deps() {
  command -v dpkg-query >/dev/null || die "dpkg-query not found: this script supports Debian bookworm (install the packages listed in it by hand elsewhere)"
  local missing=() p
  for p in "${PACKAGES[@]}"; do
    if [[ "${p}" == default-jdk-headless ]] && java_ok; then continue; fi
    installed "${p}" || missing+=("${p}")
  done
  if ((${#missing[@]} == 0)); then
    log "all system packages present"
    return 0
  fi
  log "missing packages: ${missing[*]}"
  local sudo=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null || die "not root and no sudo: install as root: apt-get install -y ${missing[*]}"
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update
  "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
}

build() {
  local type="$1"; shift
  local dir="${ROOT}/build/${type}"
  local cmake_args=(-G Ninja)
  case "${type}" in
    release) cmake_args+=(-DCMAKE_BUILD_TYPE=Release -DPASSERELLE_SANITIZE=OFF -DPASSERELLE_BUILD_TESTS=OFF) ;;
    asan)    cmake_args+=(-DCMAKE_BUILD_TYPE=Debug -DPASSERELLE_SANITIZE=ON -DPASSERELLE_BUILD_TESTS=ON) ;;
    debug)   cmake_args+=(-DCMAKE_BUILD_TYPE=Debug -DPASSERELLE_SANITIZE=OFF -DPASSERELLE_BUILD_TESTS=ON) ;;
    *) die "unknown build type '${type}' (release, asan, debug)" ;;
  esac
  # shellcheck disable=SC2206 # deliberately word-split.
  cmake_args+=(${PASSERELLE_CMAKE_ARGS:-})

  local jobs="${PASSERELLE_JOBS:-$(nproc)}"
  [[ "${jobs}" =~ ^[1-9][0-9]*$ ]] || die "PASSERELLE_JOBS must be a positive integer, got '${jobs}'"

  export CCACHE_BASEDIR="${ROOT}" CCACHE_NOHASHDIR=true
  log "configuring ${dir} (${type})"
  cmake -S "${ROOT}" -B "${dir}" "${cmake_args[@]}" >"${ROOT}/build/${type}.configure.log" 2>&1 ||
    { cat "${ROOT}/build/${type}.configure.log" >&2; die "CMake configure failed for ${type}"; }

  local build_args=(--build "${dir}" -j "${jobs}")
  if (($# > 0)); then build_args+=(--target "$@"); fi
  local native_args=()
  if [[ "${PASSERELLE_KEEP_GOING:-0}" == 1 ]]; then native_args=(-- -k 0); fi
  log "building ${type}${1:+ (targets: $*)} with ${jobs} jobs"
  cmake "${build_args[@]}" "${native_args[@]}" || die "build failed (${type})"
  log "built ${dir}"
}

main() {
  [[ $# -ge 1 ]] || { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2; exit 2; }
  local type="$1"; shift
  case "${type}" in
    deps) install_deps ;;
    release|asan|debug) install_deps; mkdir -p "${ROOT}/build"; build "${type}" "$@" ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2 ;;
    *) die "unknown build type '${type}' (release, asan, debug, deps)" ;;
  esac
}

main "$@"
