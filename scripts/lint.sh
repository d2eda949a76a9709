#!/usr/bin/env bash
# lint.sh - the lint test: clang-format must agree with every C file, and no banned function
# (strcpy, sprintf, strtok, atoi, gets) may appear in src/, tests/ or bench/.
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
[ $fail -eq 0 ] && echo "1 passed, 0 failed" || echo "0 passed, 1 failed"
exit $fail
