#!/usr/bin/env bash
# The test command: installs what the tests need on a fresh Debian machine, builds, runs every test, and ends with
# one line "N passed, N failed" (", N skipped" when any were skipped). Exits non-zero when anything failed.
set -uo pipefail
cd "$(dirname "$0")"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

summary() { echo "$1 passed, $2 failed${3:+, $3 skipped}"; }

# Debian packages the tests use: Chromium (browser tests), redis-server and nginx (cluster tests), iproute2 and
# nftables (the partition test, which cuts one link between nodes in network namespaces of its own).
packages=(chromium redis-server nginx iproute2 nftables)
missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "Installing ${missing[*]}..."
  # Debian starts nginx and redis-server as services when they install; the tests start their own, on free ports.
  policy=/usr/sbin/policy-rc.d; made_policy=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null && $sudo chmod +x "$policy" && made_policy=1
  fi
  installed=0
  { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; } || installed=$?
  [ -n "$made_policy" ] && $sudo rm -f "$policy"
  if [ "$installed" -ne 0 ]; then
    echo "Could not install ${missing[*]}."
    summary 0 1
    exit 1
  fi
fi

# npm packages (the browser SignalR client the gateway serves) install with the Gateway build from package-lock.json.
if ! dotnet build Orleans.Realtime.sln -c Release -nologo -v quiet; then
  echo "The build failed."
  summary 0 1
  exit 1
fi

results=$(mktemp -d)
dotnet test Tests/Tests.csproj -c Release --no-build -nologo \
  --blame-hang-timeout 5m --logger "console;verbosity=normal" \
  --logger "trx;LogFileName=results.trx" --results-directory "$results"
status=$?

# The TRX file's counters: <Counters total="59" executed="59" passed="59" failed="0" ... />
counter() { grep -o "<Counters [^>]*" "$results"/*.trx 2>/dev/null | grep -o "$1=\"[0-9]*\"" | grep -o '[0-9]*' | awk '{ n += $1 } END { print n + 0 }'; }
passed=$(counter passed)
failed=$(( $(counter failed) + $(counter error) + $(counter timeout) + $(counter aborted) ))
skipped=$(( $(counter total) - $(counter executed) ))

# CI shows only the end of the output: name every failed test there, with the first lines of its message.
if [ "$failed" -gt 0 ] && command -v python3 >/dev/null; then
  python3 - "$results"/*.trx <<'PY' || true
import sys, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
for path in sys.argv[1:]:
    for result in ET.parse(path).getroot().iterfind(".//t:UnitTestResult", ns):
        if result.get("outcome") not in ("Failed", "Error", "Timeout", "Aborted"):
            continue
        message = result.findtext("t:Output/t:ErrorInfo/t:Message", "", ns).strip().splitlines()
        print("FAILED " + result.get("testName", "?") + ": " + " / ".join(message[:3])[:600])
PY
elif [ "$failed" -gt 0 ]; then
  grep -ho '<UnitTestResult [^>]*outcome="\(Failed\|Error\|Timeout\|Aborted\)"[^>]*' "$results"/*.trx | grep -o 'testName="[^"]*"' | sed 's/^/FAILED /' || true
fi
rm -rf "$results"

if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1 # the run itself broke (a crash or a hang), whatever it counted
fi
summary "$passed" "$failed" "$([ "$skipped" -gt 0 ] && echo "$skipped")"
[ "$failed" -eq 0 ]
