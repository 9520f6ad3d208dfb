#!/bin/sh
# Runs the compiled bench with room for the connection scenario: the bench (holding the peers'
# ends) and the service it starts each need a descriptor per connection, and the processes the
# bench starts inherit this limit.
set -e
cd "$(dirname "$0")/.."
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec node dist-bench/main.js "$@"
