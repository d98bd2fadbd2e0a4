#!/usr/bin/env bash
# Times a full `pulumi up` (preview and update) of the test program (YAML,
# outputs only, one secret config value) against Gatehouse and against the
# CLI's own file backend, alternating runs, and prints the means and ratio.
#   bash bench/pulumi-up.sh [RUNS]   (default 10)
set -euo pipefail
runs=${1:-10}
root=$(cd "$(dirname "$0")/.." && pwd)
PATH="$("$root/../shared/tools/pulumi-cli"):$PATH"
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
(cd "$root" && go build -o "$work/gatehouse" ./cmd/gatehouse)
"$work/gatehouse" serve --listen 127.0.0.1:18181 --database "$work/g.db" --bootstrap-org acme \
  --bootstrap-token-file "$work/token" --log-level warn 2>"$work/server.log" &
server=$!
for _ in $(seq 50); do [ -s "$work/token" ] && break; sleep 0.1; done

mkdir -p "$work/proj"
cat >"$work/proj/Pulumi.yaml" <<'YAML'
name: app
runtime: yaml
config:
  greeting:
    type: string
outputs:
  hello: ${greeting}
  plain: world
YAML
export PULUMI_SKIP_UPDATE_CHECK=true NO_COLOR=1 PULUMI_CONFIG_PASSPHRASE=bench
gh() { (cd "$work/proj" && PULUMI_HOME="$work/home-gh" PULUMI_ACCESS_TOKEN="$(cat "$work/token")" \
  PULUMI_BACKEND_URL=http://127.0.0.1:18181 pulumi "$@"); }
fb() { (cd "$work/proj" && PULUMI_HOME="$work/home-fb" PULUMI_BACKEND_URL="file://$work/state" pulumi "$@"); }
mkdir -p "$work/state"
gh login http://127.0.0.1:18181 >/dev/null
gh stack init acme/gh >/dev/null
gh config set --secret greeting hi -s acme/gh
fb login "file://$work/state" >/dev/null
fb stack init organization/app/fb >/dev/null
fb config set --secret greeting hi -s organization/app/fb
gh up --yes -s acme/gh >/dev/null   # the first up creates; the timed ones find it unchanged
fb up --yes -s organization/app/fb >/dev/null

ms() { echo $(( $(date +%s%N) / 1000000 )); }
tg=0 tf=0
for i in $(seq "$runs"); do
  t=$(ms); gh up --yes -s acme/gh >/dev/null; tg=$(( tg + $(ms) - t ))
  t=$(ms); fb up --yes -s organization/app/fb >/dev/null; tf=$(( tf + $(ms) - t ))
done
echo "pulumi up, mean of $runs: gatehouse $(( tg / runs )) ms, file backend $(( tf / runs )) ms"
awk -v g="$tg" -v f="$tf" 'BEGIN { printf "gatehouse / file backend: %.2f\n", g / f }'
