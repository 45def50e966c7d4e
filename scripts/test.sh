#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it: see .ci/run.
set -euo pipefail
exec bash "$(dirname "$0")/../.ci/run"
