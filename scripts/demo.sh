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

step "experiment tracking: train real models (scikit-learn) with sw.start_run()"
"$bin/python" "$repo/scripts/demo_train.py" best-run.txt
best=$(cat best-run.txt)
step "slipway runs list (all runs) and a search: f1 > 0.95, best first"
"$bin/slipway" runs list --project churn --columns 4
"$bin/slipway" runs list -f "metrics.f1 > 0.95 and tags.family = 'logreg'" -o "metrics.f1 DESC" --columns 4
step "slipway runs show / compare / reproduce"
"$bin/slipway" runs show "${best:0:8}"
second=$("$bin/slipway" runs list -o "metrics.f1 DESC" --json | sed -n 2p | "$bin/python" -c 'import json,sys; print(json.loads(sys.stdin.read())["id"])')
COLUMNS=${COLUMNS:-120} "$bin/slipway" runs compare "${best:0:8}" "${second:0:8}"
"$bin/slipway" runs reproduce "${best:0:8}"

step "data versioning: a customer table (Parquet) and an event log (CSV), versioned"
"$bin/python" "$repo/scripts/demo_data.py" generate data/customers
"$bin/slipway" data add data/customers -m "October snapshot"
cat data/customers.slipway
step "slipway data show: the profile of each table (monitoring's reference), PII flagged"
COLUMNS=${COLUMNS:-140} "$bin/slipway" data show customers@v1
step "change the data: new customers, a new column, a new month of events"
"$bin/python" "$repo/scripts/demo_data.py" change data/customers
"$bin/slipway" data status || true
"$bin/slipway" data add data/customers -m "November snapshot"
step "slipway data diff customers@v1 customers@v2 and the log"
"$bin/slipway" data diff customers@v1 customers@v2
COLUMNS=${COLUMNS:-120} "$bin/slipway" data log customers
step "checkout v1 and back to v2; a training run reads a version (lineage)"
"$bin/slipway" data checkout customers@v1
"$bin/slipway" data checkout customers@v2
"$bin/python" - <<'PY'
import slipway as sw

with sw.start_run(project="default", name="reads-customers", capture=False) as run:
    table = sw.data.load_table("customers@v2", table="customers.parquet")
    run.log_metric("churn_rate", sum(table.column("churned").to_pylist()) / table.num_rows)
print(f"run {run.id[:8]} read customers@v2: {table.num_rows:,} rows, {table.num_columns} columns")
PY

step "model registry: versioned training and holdout data; a model trained in a run"
export SLIPWAY_PROJECT=churn
"$bin/python" "$repo/scripts/demo_models.py" data
"$bin/python" "$repo/scripts/demo_models.py" train logreg
step "promotion gates: approve, then promote churn@v1 to champion through slipway.gates.yaml"
"$bin/slipway" model approve churn 1 --note "checked the slices"
COLUMNS=${COLUMNS:-140} "$bin/slipway" model promote churn 1 --to champion
step "a challenger: slipway check (CI, JUnit XML) and promote fail until it is approved"
"$bin/python" "$repo/scripts/demo_models.py" train forest
COLUMNS=${COLUMNS:-140} "$bin/slipway" check --junit gates.xml || echo "(slipway check exited $?: a gate failed, as CI would see it)"
grep -o '<testsuite [^>]*>' gates.xml
COLUMNS=${COLUMNS:-140} "$bin/slipway" model promote churn 2 || echo "(refused: nothing moved)"
"$bin/slipway" model approve churn 2 --note "forest: similar F1, better recall on NL"
COLUMNS=${COLUMNS:-140} "$bin/slipway" model promote churn 2
COLUMNS=${COLUMNS:-140} "$bin/slipway" model history churn
step "churn@v1 converted to ONNX (registered only because its predictions match), versions, lineage"
"$bin/slipway" model to-onnx churn@v1
COLUMNS=${COLUMNS:-140} "$bin/slipway" model versions churn
"$bin/slipway" model lineage churn@champion
step "serving code: sw.models.load('churn@champion'), input checked against the signature"
"$bin/python" - <<'PY'
import pandas as pd
import slipway as sw
from slipway.errors import InvalidInput

model = sw.models.load("churn@champion")
rows = [{"tenure_months": 2, "monthly_spend": 80.0, "support_calls": 5, "plan": "basic",
         "country": "DE"},
        {"tenure_months": 60, "monthly_spend": 40.0, "support_calls": 0, "plan": "pro",
         "country": "NL"}]
print("predict(records) ->", model.predict(rows).tolist())
try:
    model.predict(pd.DataFrame(rows).drop(columns=["plan"]))
except InvalidInput as exc:
    print("a request without 'plan' ->", exc)
PY
step "the model card of the champion (Markdown here; --html writes a page)"
"$bin/slipway" model card churn@champion \
  --intended-use "Rank accounts for retention calls each week." \
  --limitations "Trained on synthetic data; not for pricing or credit decisions." \
  --output card.md
head -60 card.md
"$bin/slipway" model card churn@champion --html --output card.html
ls -l card.html
step "training as a pipeline: ingest -> featurize -> train -> evaluate -> register, on a process pool"
cp "$repo/scripts/demo_pipeline.py" churn_flow.py
COLUMNS=${COLUMNS:-160} "$bin/slipway" pipeline run churn_flow:churn --executor process
step "the same pipeline again: nothing changed, every step is a cache hit"
COLUMNS=${COLUMNS:-160} "$bin/slipway" pipeline run churn_flow:churn
step "a new parameter re-runs train and what follows it only"
COLUMNS=${COLUMNS:-160} "$bin/slipway" pipeline run churn_flow:churn --param c=0.3
COLUMNS=${COLUMNS:-160} "$bin/slipway" pipeline runs
step "a nightly schedule, and the cost of the runs ([cost] prices in slipway.toml)"
"$bin/slipway" schedule add churn_flow:churn --cron "0 3 * * *" --param c=0.3
COLUMNS=${COLUMNS:-160} "$bin/slipway" schedule list
first_run=$("$bin/slipway" pipeline runs --json | tail -1 | "$bin/python" -c 'import json,sys; print(json.loads(sys.stdin.read())["id"])')
COLUMNS=${COLUMNS:-160} "$bin/slipway" cost report --run "$first_run"
step "slipway pipeline show: the first run's DAG with timings, resources and lineage"
COLUMNS=${COLUMNS:-160} "$bin/slipway" pipeline show "${first_run:0:12}"
unset SLIPWAY_PROJECT

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
"$bin/python" - <<'PY'
import slipway as sw

with sw.start_run(project="churn", name="logged-over-http") as run:
    run.log_params({"lr": 0.05})
    for step in range(100):
        run.log_metric("loss", 1 / (step + 1), step=step)
print("remote run:", sw.get_run(run.id).status, "metrics:", sw.get_run(run.id).metrics)
PY
COLUMNS=${COLUMNS:-120} "$bin/slipway" runs list -f "params.lr = '0.05'"
step "done: the workspace was $demo (removed on exit)"
