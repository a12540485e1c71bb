#!/usr/bin/env bash
# The school stack on one machine: a local Ray cluster running the models on Ray Serve,
# N Streamlit replicas sending every model call there, nginx in front (WebSocket upgrade,
# cookie affinity, the app's upload limit). Training and fine-tuning run as Ray tasks, at
# most K at once (--training-slots K, default ATTN_LAB_TRAINING_SLOTS or 2). Installs what it
# needs (nginx from Debian, the Python requirements and Ray into .venv), prints the URL once
# everything answers.
#   bash scripts/school.sh [--replicas N] [--port P] [--serve-port S] [--serve-replicas R] [--training-slots K]
#   bash scripts/school.sh --stop [--port P]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
REPLICAS=2; PORT=8660; SERVE_PORT=8665; SERVE_REPLICAS=2; STOP=0; TRAINING_SLOTS="${ATTN_LAB_TRAINING_SLOTS:-2}"
FIRST_REPLICA_PORT=8650; RAY_PORT=8666; RAY_CLIENT_PORT=8667
while [ $# -gt 0 ]; do
  case "$1" in
    --replicas) REPLICAS="$2"; shift 2 ;;
    --port) PORT="$2"; shift 2 ;;
    --serve-port) SERVE_PORT="$2"; shift 2 ;;
    --serve-replicas) SERVE_REPLICAS="$2"; shift 2 ;;
    --training-slots) TRAINING_SLOTS="$2"; shift 2 ;;
    --first-replica-port) FIRST_REPLICA_PORT="$2"; shift 2 ;;
    --ray-port) RAY_PORT="$2"; shift 2 ;;
    --ray-client-port) RAY_CLIENT_PORT="$2"; shift 2 ;;
    --stop) STOP=1; shift ;;
    -h|--help) sed -n 2,9p "$0"; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$TRAINING_SLOTS" in ''|*[!0-9]*) echo "--training-slots wants a whole number, not '$TRAINING_SLOTS'" >&2; exit 2 ;; esac
RUN="/tmp/attnlab-school-$PORT"
say() { echo "school: $*"; }

stop_all() {
  for pidfile in "$RUN"/replica-*.pid; do
    [ -f "$pidfile" ] || continue
    pid="$(cat "$pidfile")"; kill "$pid" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -9 "$pid" 2>/dev/null || true  # a replica busy with open sessions can ignore SIGTERM
    rm -f "$pidfile"
  done
  if [ -f "$RUN/nginx.pid" ]; then
    nginx -c "$RUN/nginx.conf" -p "$RUN" -s quit 2>/dev/null || kill "$(cat "$RUN/nginx.pid")" 2>/dev/null || true
  fi
  if [ -x .venv/bin/ray ] && [ -f "$RUN/ray.started" ]; then
    RAY_AUTH_MODE=token RAY_AUTH_TOKEN_PATH="$RUN/ray_auth_token" .venv/bin/ray stop --force >/dev/null 2>&1 || true
    rm -f "$RUN/ray.started"
  fi
}
if [ "$STOP" = 1 ]; then stop_all; say "stopped (port $PORT)"; exit 0; fi

# ---------------------------------------------------------------- install what is missing
if ! command -v nginx >/dev/null; then
  say "installing nginx (Debian package nginx-light)"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nginx-light >/dev/null
fi
[ -x .venv/bin/python ] || bash scripts/setup_env.sh requirements.txt
.venv/bin/python -c "import streamlit, torch" 2>/dev/null || bash scripts/setup_env.sh requirements.txt
.venv/bin/python -c "import ray.serve" 2>/dev/null || .venv/bin/python -m pip install --quiet -r requirements-school.txt

mkdir -p "$RUN"; chmod 700 "$RUN"
stop_all
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \
       HF_HUB_DISABLE_TELEMETRY=1 RAY_USAGE_STATS_ENABLED=0 \
       RAY_agent_register_timeout_ms="${RAY_agent_register_timeout_ms:-120000}"  # busy machines: a slow agent
# Ray's token authentication, with this stack's own token (workers joining need the same file).
export RAY_AUTH_MODE=token RAY_AUTH_TOKEN_PATH="$RUN/ray_auth_token"
[ -s "$RAY_AUTH_TOKEN_PATH" ] || (umask 077; .venv/bin/python -c "import secrets; print(secrets.token_hex(32))" > "$RAY_AUTH_TOKEN_PATH")

wait_for() {  # wait_for SECONDS WHAT COMMAND...
  local until=$(( $(date +%s) + $1 )) what="$2"; shift 2
  until "$@" >/dev/null 2>&1; do
    if [ "$(date +%s)" -ge "$until" ]; then say "$what did not answer; logs in $RUN" >&2; exit 1; fi
    sleep 1
  done
}

# ---------------------------------------------------------------- Ray + Serve (127.0.0.1 only)
say "starting Ray on 127.0.0.1:$RAY_PORT ($TRAINING_SLOTS training slots)"
touch "$RUN/ray.started"
for attempt in 1 2 3; do  # on a busy machine the raylet can miss Ray's fixed 30 s start window
  if .venv/bin/ray start --head --node-ip-address 127.0.0.1 --port "$RAY_PORT" \
      --ray-client-server-port "$RAY_CLIENT_PORT" --include-dashboard=false --disable-usage-stats \
      --object-store-memory 200000000 --resources "{\"attnlab_training\": $TRAINING_SLOTS}" \
      > "$RUN/ray.log" 2>&1; then break; fi
  .venv/bin/ray stop --force >/dev/null 2>&1 || true
  if [ "$attempt" = 3 ]; then say "Ray did not start; see $RUN/ray.log" >&2; exit 1; fi
  say "Ray start timed out (busy machine?), trying again"
done
say "deploying the models on Ray Serve (http://127.0.0.1:$SERVE_PORT, $SERVE_REPLICAS replicas)"
.venv/bin/python -m deploy.serve_app --ray-address "127.0.0.1:$RAY_PORT" --http-port "$SERVE_PORT" \
  --replicas "$SERVE_REPLICAS" >> "$RUN/ray.log" 2>&1
wait_for 180 "Ray Serve" sh -c "curl -sf http://127.0.0.1:$SERVE_PORT/-/routes | grep -q /attnlab"

# ---------------------------------------------------------------- Streamlit replicas
SECRET_FILE="$RUN/cookie_secret"
[ -s "$SECRET_FILE" ] || (umask 077; .venv/bin/python -c "import secrets; print(secrets.token_hex(32))" > "$SECRET_FILE")
UPLOAD_MB="$(sed -n 's/^maxUploadSize *= *\([0-9]*\).*/\1/p' .streamlit/config.toml)"
SERVERS=""
for i in $(seq 0 $(( REPLICAS - 1 ))); do
  p=$(( FIRST_REPLICA_PORT + i ))
  say "starting Streamlit replica $i on 127.0.0.1:$p"
  # The same cookie secret on every replica (Streamlit reads it from the environment only).
  # Model calls go to Serve's HTTP proxy; training jobs to the cluster through the Ray Client.
  ATTN_LAB_INFERENCE="http://127.0.0.1:$SERVE_PORT" ATTN_LAB_RAY_ADDRESS="ray://127.0.0.1:$RAY_CLIENT_PORT" \
    STREAMLIT_SERVER_COOKIE_SECRET="$(cat "$SECRET_FILE")" \
    nohup .venv/bin/python -m ui.launch --server.port "$p" --server.address 127.0.0.1 \
    --server.headless true > "$RUN/replica-$i.log" 2>&1 &
  echo $! > "$RUN/replica-$i.pid"
  SERVERS="$SERVERS server 127.0.0.1:$p max_fails=1 fail_timeout=10s;"
done

# ---------------------------------------------------------------- nginx
sed -e "s#@RUN@#$RUN#g" -e "s#@LISTEN@#127.0.0.1:$PORT#" -e "s#@SERVERS@#$SERVERS#" \
    -e "s#@MAX_BODY@#$(( ${UPLOAD_MB:-200} + 1 ))#" deploy/nginx.conf.template > "$RUN/nginx.conf"
nginx -t -q -c "$RUN/nginx.conf" -p "$RUN"
nginx -c "$RUN/nginx.conf" -p "$RUN"

replica_up() {  # replica_up I: answers health, or exit at once when its process died
  kill -0 "$(cat "$RUN/replica-$1.pid")" 2>/dev/null || { say "replica $1 exited:" >&2; tail -3 "$RUN/replica-$1.log" >&2; exit 1; }
  curl -sf "http://127.0.0.1:$(( FIRST_REPLICA_PORT + $1 ))/_stcore/health"
}
for i in $(seq 0 $(( REPLICAS - 1 ))); do wait_for 240 "Streamlit replica $i" replica_up "$i"; done
wait_for 30 "nginx" curl -sf "http://127.0.0.1:$PORT/_stcore/health"
say "ready: http://127.0.0.1:$PORT  ($REPLICAS Streamlit replicas, Ray Serve $SERVE_REPLICAS replicas, $TRAINING_SLOTS training slots)"
say "stop with: bash scripts/school.sh --stop --port $PORT"
