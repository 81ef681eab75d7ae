#!/usr/bin/env bash
# scripts/start.sh — command 1: build the release binary (installing what is missing) and run the daemon.
#
#   scripts/start.sh [passerelle serve arguments...]     e.g. scripts/start.sh --config deploy/passerelle.yaml
#
# With no arguments the daemon starts on the embedded backend, HTTP on 127.0.0.1:8080, data in ./passerelle-data
# (relative to the directory you run this from). The process is exec'ed, so signals (SIGINT/SIGTERM to stop,
# SIGHUP to reload secrets) reach passerelle itself.
set -euo pipefail

readonly ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly BINARY="${ROOT}/build/release/broker/app/passerelle"

# Only the daemon's target: a broken benchmark or test elsewhere in the tree must not keep it from starting.
"${ROOT}/scripts/setup.sh" release passerelle
[[ -x "${BINARY}" ]] || { echo "start.sh: error: ${BINARY} was not produced by the build" >&2; exit 1; }
exec "${BINARY}" serve "$@"
