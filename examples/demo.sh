#!/bin/sh
# Runs a wrapped job against the tiny receiver: builds both, starts the receiver, runs
# `hookpoint run` with examples/hookpoint.yaml, and stops the receiver.
set -eu
cd "$(dirname "$0")/.."
mkdir -p bin
go build -o bin/ ./cmd/hookpoint ./examples/receiver
DEMO_WHSEC=whsec_ZGVtby1zZWNyZXQtZm9yLWhvb2twb2ludC1kZW1v
export DEMO_WHSEC
bin/receiver -addr 127.0.0.1:9876 -secret "$DEMO_WHSEC" &
rpid=$!
trap 'kill $rpid 2>/dev/null' EXIT
sleep 0.5
# Under set -e a failing run would end the script here: keep its exit status instead.
status=0
bin/hookpoint run -v --config examples/hookpoint.yaml --journal bin/journal.jsonl \
  --kind backup --job nightly --var host="$(hostname)" -- sh -c 'echo "backing up..."; sleep 1; echo done' || status=$?
echo "exit status: $status; journal: bin/journal.jsonl (read it with: bin/hookpoint journal bin/journal.jsonl)"
exit "$status"
