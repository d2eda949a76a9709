#!/usr/bin/env bash
# check-docs.sh ONCUE - fails when a generated doc differs from what its table generates now.
# Regenerate with: make docs
set -uo pipefail
bin=$1
cd "$(dirname "$0")/.."
fail=0
for doc in config api cli billing events; do
    if ! "$bin" docs "$doc" | diff -u "docs/$doc.md" - ; then
        echo "docs/$doc.md is stale: run 'make docs'"
        fail=1
    fi
done
# every bus topic named in core/topics.h has its row in docs/events.md
for t in $(sed -n 's/^#define OC_TOPIC_[A-Z_]* *"\([a-z_.]*\)".*/\1/p' src/core/topics.h); do
    if ! grep -q "^| \`$t\` |" docs/events.md; then
        echo "docs/events.md: no row for the topic $t (src/core/events.c)"
        fail=1
    fi
done
[ $fail -eq 0 ] && echo "1 passed, 0 failed" || echo "0 passed, 1 failed"
exit $fail
