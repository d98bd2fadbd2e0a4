#!/usr/bin/env bash
# Load test of a running Gatehouse over loopback with wrk (Debian package
# wrk): the check endpoint alone, then the check endpoint and GET
# /roles/{id} side by side. Numbers go to BENCHMARKS.md.
#   bash bench/load.sh            (from the repository root)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
dir=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
go build -o "$dir/gatehouse" ./cmd/gatehouse
"$dir/gatehouse" serve --database "$dir/g.db" --listen 127.0.0.1:18181 --bootstrap-org acme \
  --bootstrap-token-file "$dir/token" >"$dir/log" 2>&1 &
pid=$!
for _ in $(seq 50); do [ -s "$dir/token" ] && curl -sf http://127.0.0.1:18181/readyz >/dev/null && break; sleep 0.1; done
T=$(cat "$dir/token")
base=http://127.0.0.1:18181
RID=$(curl -s -H "Authorization: token $T" "$base/api/orgs/acme/roles?uxPurpose=role" | sed 's/.*"id":"\([^"]*\)".*/\1/' | head -c 36)
cat >"$dir/check.lua" <<LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "token $T"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"checks":[{"token":"$T","scope":"audit_logs:read","entity":{"type":"global"}}]}'
LUA
printf 'wrk.headers["Authorization"] = "token %s"\n' "$T" >"$dir/get.lua"
echo "== check endpoint alone (1 wrk thread, 16 connections, 10 s)"
wrk -t1 -c16 -d10s --latency -s "$dir/check.lua" "$base/api/orgs/acme/authz/check"
echo "== check endpoint with GET /roles/{id} alongside (two wrk processes)"
wrk -t1 -c4 -d10s --latency -s "$dir/get.lua" "$base/api/orgs/acme/roles/$RID" >"$dir/get.txt" 2>&1 &
wrk -t1 -c12 -d10s --latency -s "$dir/check.lua" "$base/api/orgs/acme/authz/check"
wait %2 2>/dev/null || sleep 1
echo "-- GET /roles/{id} alongside:"
cat "$dir/get.txt"

# The runs above saturate the two cores that wrk shares with the server, so
# their tail is the scheduler's. The goal is a latency at a rate: here each
# connection waits 1 ms between requests (wrk's delay()), which holds the
# check endpoint near 21,000 requests/s with GETs alongside.
echo "== paced: check endpoint at ~21k requests/s (44 connections, 1 ms apart) with GET /roles/{id} alongside (4 connections)"
printf 'function delay() return 1 end\n' | tee -a "$dir/check.lua" >>"$dir/get.lua"
wrk -t1 -c4 -d10s --latency -s "$dir/get.lua" "$base/api/orgs/acme/roles/$RID" >"$dir/get.txt" 2>&1 &
g=$!
wrk -t1 -c44 -d10s --latency -s "$dir/check.lua" "$base/api/orgs/acme/authz/check"
wait $g
echo "-- GET /roles/{id} alongside, paced:"
cat "$dir/get.txt"

echo "== OIDC token exchange (static-JWKS issuer, 1 wrk thread, 32 connections, 10 s)"
(cd bench && go run ./cmd/oidcjwt -iss https://ci.example -aud acme -jwks "$dir/jwks.json") >"$dir/idtoken"
ISS=$(curl -sf -H "Authorization: token $T" -H 'Content-Type: application/json' \
  -d "{\"name\":\"ci\",\"url\":\"https://ci.example\",\"jwks\":$(cat "$dir/jwks.json")}" \
  "$base/api/orgs/acme/oidc/issuers" | sed 's/.*"id":"\([^"]*\)".*/\1/' | head -c 36)
POL=$(curl -sf -H "Authorization: token $T" "$base/api/orgs/acme/auth/policies/oidcissuers/$ISS" |
  sed 's/.*"id":"\([^"]*\)".*/\1/' | head -c 36)
curl -sf -X PATCH -H "Authorization: token $T" -H 'Content-Type: application/json' \
  -d '{"policies":[{"decision":"allow","tokenType":"organization","rules":{"sub":"repo:acme/*"}}]}' \
  "$base/api/orgs/acme/auth/policies/$POL" >/dev/null
cat >"$dir/exchange.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "grant_type=urn:ietf:params:oauth:grant-type:token-exchange&subject_token_type=urn:ietf:params:oauth:token-type:id_token&requested_token_type=urn:pulumi:token-type:access_token:organization&audience=urn:pulumi:org:acme&subject_token=$(cat "$dir/idtoken")"
response = function(status, headers, body)
  if status ~= 200 then io.stderr:write("exchange: " .. status .. " " .. body .. "\n"); os.exit(1) end
end
LUA
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }  # server's user+system clock ticks
c0=$(cpu)
wrk -t1 -c32 -d10s --latency -s "$dir/exchange.lua" "$base/api/oauth/token" | tee "$dir/ex.txt"
c1=$(cpu)
n=$(awk '/requests in/ {print $1}' "$dir/ex.txt")
echo "-- server CPU: $(( (c1 - c0) * 1000 / $(getconf CLK_TCK) )) ms for $n exchanges = $(( n * $(getconf CLK_TCK) / (c1 - c0) )) exchanges per CPU-second"
