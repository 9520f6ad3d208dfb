#!/bin/sh
# Runs the compiled bench with room for the connection scenario: the bench (holding the peers'
# ends) and the service it starts each need a descriptor per connection, and the processes the
# bench starts inherit this limit.
set -e
cd "$(dirname "$0")/.."
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
# The bench is the client of every scenario, reading and writing gigabytes over HTTP: with the
# V8 settings `npm start` gives the service, its collections stop limiting the drain after the
# earlier scenarios' load (bench/README.md, fix 21).
exec node --max-semi-space-size=64 --initial-old-space-size=128 --external-memory-accounted-in-global-limit dist-bench/main.js "$@"
