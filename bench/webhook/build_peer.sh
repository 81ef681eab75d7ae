#!/usr/bin/env bash
# Builds the peer ingest tool (Redpanda Connect / Benthos, community code) once from the Go module proxy into
# ~/.cache/passerelle/<name>-<version>/bin/<name>, and prints the binary's path on stdout.
#
# Why Benthos v4.27.0 by default: it is the last release published as github.com/benthosdev/benthos/v4, the code
# that was renamed Redpanda Connect in v4.28 (same http_server input, Bloblang, dedupe and kafka_franz output).
# On this workplace the Go module proxy refuses the zips of github.com/redpanda-data/connect/v4 (403 "This module
# version is not available"), so the newest build of that code we can fetch is Benthos v4.27.0.
#
# What is built: by default a bundle of the components the benchmark's config uses (public/components/io, kafka,
# pure, prometheus), the supported way to build a smaller Benthos (its main is the stock one, internal/cli.Run, so
# the runtime is exactly the distribution's); the full bundle (./cmd/benthos, every component) had not finished
# compiling after 35 minutes on the shared 2-CPU machine, and runs the same code for this config. PEER_FULL=1 builds the full
# bundle instead. Other code: PEER_MODULE / PEER_VERSION / PEER_CMD / PEER_NAME, e.g. where it is served:
#   PEER_FULL=1 PEER_MODULE=github.com/redpanda-data/connect/v4 PEER_VERSION=v4.40.0 \
#   PEER_CMD=./cmd/redpanda-connect-community PEER_NAME=redpanda-connect bench/webhook/build_peer.sh
# Environment: PEER_BUILD_JOBS (go build -p, default 2), GOFLAGS as usual.
set -euo pipefail

module="${PEER_MODULE:-github.com/benthosdev/benthos/v4}"
version="${PEER_VERSION:-v4.27.0}"
full="${PEER_FULL:-0}"
cmd="${PEER_CMD:-./cmd/benthos}"
name="${PEER_NAME:-benthos}"
jobs="${PEER_BUILD_JOBS:-2}"
[[ "${full}" == 0 || "${full}" == 1 ]] || { echo "build_peer.sh: PEER_FULL must be 0 or 1" >&2; exit 2; }
[[ "${jobs}" =~ ^[1-9][0-9]*$ ]] || { echo "build_peer.sh: PEER_BUILD_JOBS must be a positive integer" >&2; exit 2; }
flavour="$([[ "${full}" == 1 ]] && echo full || echo bench)"
cache="${HOME}/.cache/passerelle/${name}-${version#v}"
bin="${cache}/bin/${name}-${flavour}"

if [[ -x "${bin}" ]]; then
  echo "${bin}"
  exit 0
fi
command -v go >/dev/null || { echo "build_peer.sh: go is not installed" >&2; exit 1; }

if [[ ! -f "${cache}/src/go.mod" ]]; then
  work="$(mktemp -d)"
  trap 'chmod -R u+w "${work}" 2>/dev/null; rm -rf "${work}"' EXIT
  # A throwaway module so that `go mod download` has a go.mod to work in (`go install` refuses modules whose go.mod
  # carries replace directives, as these do).
  (cd "${work}" && go mod init peerfetch >/dev/null 2>&1)
  dir="$(cd "${work}" && go mod download -json "${module}@${version}" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  if [[ -z "${dir}" || ! -d "${dir}" ]]; then
    echo "build_peer.sh: could not download ${module}@${version} from the Go module proxy:" >&2
    (cd "${work}" && go mod download -json "${module}@${version}" | grep '"Error"' >&2) || true
    exit 1
  fi
  rm -rf "${cache}/src"
  mkdir -p "${cache}/src"
  cp -r "${dir}/." "${cache}/src/"
  chmod -R u+w "${cache}/src"
fi
mkdir -p "${cache}/bin"

if [[ "${full}" == 0 ]]; then
  if [[ "${module}" != github.com/benthosdev/benthos/v4 ]]; then
    echo "build_peer.sh: the component bundle is only defined for github.com/benthosdev/benthos/v4; use PEER_FULL=1" >&2
    exit 2
  fi
  mkdir -p "${cache}/src/cmd/benthos-bench"
  cat >"${cache}/src/cmd/benthos-bench/main.go" <<'GO'
// The stock Benthos CLI with only the components bench/webhook/peer.yaml.in uses (written by build_peer.sh).
package main

import (
	"context"

	"github.com/benthosdev/benthos/v4/internal/cli"

	_ "github.com/benthosdev/benthos/v4/public/components/io"
	_ "github.com/benthosdev/benthos/v4/public/components/kafka"
	_ "github.com/benthosdev/benthos/v4/public/components/prometheus"
	_ "github.com/benthosdev/benthos/v4/public/components/pure"
)

func main() {
	cli.Run(context.Background())
}
GO
  cmd=./cmd/benthos-bench
fi
echo "build_peer.sh: building ${module}@${version} ${cmd} (takes a while)" >&2
(cd "${cache}/src" && nice -n 5 go build -trimpath -p "${jobs}" -ldflags "-s -w -X main.Version=${version}" \
  -o "${bin}.tmp" "${cmd}")
mv "${bin}.tmp" "${bin}"
echo "${module}@${version} ${cmd} ($(go version | cut -d' ' -f3))" >"${cache}/VERSION-${flavour}"
echo "${bin}"
