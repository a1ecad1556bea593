#!/usr/bin/env bash
# Builds the benchmark peers of this directory into benchmarks/.work/bin:
#   go-whole-path   the Go yardstick for the whole GET path (see go-whole-path/main.go)
# Installs what is missing from Debian (Go, grpc-go, the protobuf compiler and its Go plugin,
# go-sqlite3). Go builds in GOPATH mode from Debian's packages: nothing is downloaded but
# Debian packages. Idempotent; about a second when nothing changed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$root/benchmarks/.work
packages=(golang-go golang-google-grpc-dev golang-goprotobuf-dev golang-github-mattn-go-sqlite3-dev protobuf-compiler)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
  echo "installing ${missing[*]}" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
export GOPATH=$work/gopath:/usr/share/gocode GO111MODULE=off GOPROXY=off GOFLAGS= GOCACHE=$work/gocache
mkdir -p "$work/gopath/src/orderspb" "$work/bin"
protoc -I "$root/Protos" --go_out=plugins=grpc:"$work/gopath/src/orderspb" "$root/Protos/orders.proto"
go build -o "$work/bin/go-whole-path" "$here/go-whole-path/main.go"
echo "$work/bin/go-whole-path"
