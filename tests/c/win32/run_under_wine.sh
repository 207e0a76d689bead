#!/bin/sh
# SPDX-License-Identifier: BSL-1.0
# Runs one Windows test executable (GoogleTest) under Wine and decides whether it passed.
#
# Wine has been seen to crash now and then at process exit, after the program has finished. So the
# verdict is not the exit status alone:
# - exit status 0, and GoogleTest's XML report says every test passed: passed;
# - a non-zero exit status, but the XML report (written when all tests have run) and the summary
#   line "[  PASSED  ] N tests" both say every one of N > 0 tests passed, and no "[  FAILED  ]"
#   line was printed: a crash of Wine at exit; reported as such and counted as passed;
# - anything else (no report, a failed test, a crash during a test): a failure of ours.
# Environment: WINE (default wine), WINEPREFIX, WINEDEBUG (CTest sets them: tests/c/win32/CMakeLists.txt).
set -u
exe=$1
shift
name=$(basename "$exe" .exe)
report=${exe%.exe}.xml
log=${exe%.exe}.log
rm -f "$report" "$log"
# Z: is Wine's drive for the Unix root.
"${WINE:-wine}" "$exe" "--gtest_output=xml:Z:$report" "$@" >"$log" 2>&1
status=$?
cat "$log"

summary() {  # tests failures errors, from the <testsuites> element of the report
  sed -n 's/.*<testsuites tests="\([0-9]*\)" failures="\([0-9]*\)" disabled="[0-9]*" errors="\([0-9]*\)".*/\1 \2 \3/p' "$report" | head -n 1
}

if [ -f "$report" ]; then
  set -- $(summary)
else
  set --
fi
if [ $# -ne 3 ]; then
  echo "senet: $name: FAILED (exit status $status, no GoogleTest report: it stopped before all its tests had run)"
  exit 1
fi
tests=$1 failures=$2 errors=$3
all_passed=0
if [ "$tests" -gt 0 ] && [ "$failures" -eq 0 ] && [ "$errors" -eq 0 ] && ! grep -q '^\[  FAILED  \]' "$log" &&
  grep -q "^\[  PASSED  \] $tests test" "$log"; then
  all_passed=1
fi
if [ "$status" -eq 0 ] && [ "$all_passed" -eq 1 ]; then
  echo "senet: $name: passed ($tests tests under Wine)"
  exit 0
fi
if [ "$all_passed" -eq 1 ]; then
  echo "senet: $name: WINE CRASHED AT EXIT (exit status $status) after all $tests tests had passed (the report and the summary say so): counted as passed"
  exit 0
fi
echo "senet: $name: FAILED (exit status $status; $tests tests, $failures failures, $errors errors)"
exit 1
