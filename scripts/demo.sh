#!/usr/bin/env bash
# End-to-end demo on the embedded default (SQLite + a local folder), then the same through a
# live `slipway server`. Runs in a throwaway folder; later issues grow it into the full lifecycle.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
bin=$repo/.venv/bin
demo=$(mktemp -d -t slipway-demo-XXXXXX)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$demo"
}
trap cleanup EXIT
cd "$demo"
unset SLIPWAY_SERVER SLIPWAY_METADATA_URL SLIPWAY_OBJECTS_URL SLIPWAY_WORKSPACE || true

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "slipway init (workspace in $demo)"
"$bin/slipway" init
step "slipway doctor"
"$bin/slipway" doctor

step "projects from the CLI (embedded mode)"
"$bin/slipway" projects create churn --description "Who is about to leave?"
"$bin/slipway" projects create fraud --description "Card transactions"
"$bin/slipway" projects list

step "projects from the Python SDK (embedded mode)"
"$bin/python" - <<'PY'
import slipway as sw

project = sw.get_project("churn")
print(f"sw.get_project('churn') -> {project.name}: {project.description} (id {project.id})")
print("sw.list_projects() ->", [p.name for p in sw.list_projects()])
PY

step "the same operations through a live server (remote mode)"
port=$("$bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$bin/slipway" server --host 127.0.0.1 --port "$port" --log-level warning &
server_pid=$!
"$bin/python" - "$port" <<'PY'
import sys, time, httpx

url = f"http://127.0.0.1:{sys.argv[1]}/healthz"
for _ in range(100):
    try:
        print("GET /healthz ->", httpx.get(url, timeout=1).json())
        break
    except httpx.TransportError:
        time.sleep(0.1)
else:
    sys.exit("the server did not start")
PY
export SLIPWAY_SERVER="http://127.0.0.1:$port"
"$bin/slipway" projects create forecast --description "created over HTTP"
"$bin/python" - <<'PY'
import slipway as sw

print("remote sw.list_projects() ->", [p.name for p in sw.list_projects()])
from slipway.errors import NotFound

try:
    sw.get_project("nope")
except NotFound as exc:  # the same exception class as in embedded mode
    print(f"remote sw.get_project('nope') -> NotFound: {exc}")
PY
"$bin/slipway" projects delete fraud --yes
"$bin/slipway" projects list
step "done: the workspace was $demo (removed on exit)"
