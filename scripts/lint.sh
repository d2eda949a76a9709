#!/usr/bin/env bash
# lint.sh - the lint test: clang-format must agree with every C file, no banned function
# (strcpy, sprintf, strtok, atoi, gets) may appear in src/, tests/ or bench/, and src/ keeps
# its layers (see below).
set -uo pipefail
cd "$(dirname "$0")/.."
files=$(git ls-files -co --exclude-standard -- 'src/*.[ch]' 'tests/*.[ch]' 'bench/*.[ch]' 2>/dev/null ||
        find src tests bench -name '*.[ch]')
fail=0
if ! command -v clang-format >/dev/null; then
    echo "lint: clang-format is not installed (make check installs it)"
    exit 1
fi
if ! clang-format --dry-run --Werror $files; then
    echo "lint: clang-format disagrees (run: clang-format -i \$(git ls-files '*.[ch]'))"
    fail=1
fi
banned='\b(strcpy|sprintf|vsprintf|strtok|atoi|gets)[[:space:]]*\('
if grep -nE "$banned" $files; then
    echo "lint: banned function used (strcpy, sprintf, strtok, atoi, gets; see docs/ARCHITECTURE.md)"
    fail=1
fi
# The layers (docs/ARCHITECTURE.md): core includes only core; ingest sits above qoe and no
# other capability reads it; steering is reached only by steer/ and the top level (oncue/);
# a capability's internal header (*_int.h) stays in its folder.
layer() { # layer MESSAGE FILES... < pattern on stdin
    local pat msg=$1; shift
    pat=$(cat)
    if [ $# -gt 0 ] && grep -nE "$pat" "$@"; then
        echo "lint: $msg"
        fail=1
    fi
}
src_in() { git ls-files -co --exclude-standard -- "$@" 2>/dev/null; }
layer "core/ includes only core/" $(src_in 'src/core/*.[ch]') <<<'#include "(config|store|http|ingest|qoe|slo|alert|incident|rca|steer|catalog|sim|drill|auth|web|oncue)/'
layer "only ingest/ and oncue/ include ingest/" \
    $(src_in 'src/*.[ch]' | grep -vE '^src/(ingest|oncue)/') <<<'#include "ingest/'
layer "only steer/ and oncue/ include steer/" \
    $(src_in 'src/*.[ch]' | grep -vE '^src/(steer|oncue)/') <<<'#include "steer/'
for f in $(src_in 'src/*.[ch]'); do
    dir=$(basename "$(dirname "$f")")
    if grep -nE '#include "[a-z]+/[a-z]+_int\.h"' "$f" | grep -v "\"$dir/" >/dev/null; then
        echo "lint: $f includes another capability's internal header"
        fail=1
    fi
done
[ $fail -eq 0 ] && echo "1 passed, 0 failed" || echo "0 passed, 1 failed"
exit $fail
