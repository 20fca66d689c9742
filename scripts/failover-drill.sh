#!/usr/bin/env bash
# The failover drill: a primary PostgreSQL with a synchronous streaming standby
# (pg_basebackup), a Từng Nhà server on both through a multi-host connection string
# (target_session_attrs=read-write), and a volunteer's CLI device logging visits. The
# primary is killed with SIGKILL mid-way and the standby promoted; the server
# reconnects by itself and carries on, and nothing acknowledged is lost: every visit the
# device was told was saved before the kill is in the promoted database, and so is
# everything after; then the server stops cleanly on SIGTERM. Throwaway clusters in a
# temporary directory, on Unix sockets only. CI runs it (.ci/run).
#
#   bash scripts/failover-drill.sh
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build -q -p tungnha-server -p tungnha-cli
target="${CARGO_TARGET_DIR:-target}/debug"
server_bin="$PWD/$target/tungnha-server"
cli_bin="$PWD/$target/tungnha"
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
work=$(mktemp -d)
mkdir -p "$work/psock" "$work/ssock" "$work/phone"
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  chown -R postgres:postgres "$work"
  as_pg=(runuser -u postgres --)
fi
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  for d in primary standby; do
    [ -f "$work/$d/postmaster.pid" ] && "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$work/$d" -m immediate stop >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
say() { echo "drill: $*"; }

# The primary, which waits for the standby to confirm every commit.
"${as_pg[@]}" "$pg_bin/initdb" -D "$work/primary" -U tungnha --auth=trust -E UTF8 --locale=C >/dev/null
cat >>"$work/primary/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$work/psock'
port = 5433
wal_level = replica
synchronous_standby_names = 'standby'
synchronous_commit = on
EOF
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$work/primary" -l "$work/primary.log" -w start >/dev/null

# The standby, copied from it and streaming.
"${as_pg[@]}" "$pg_bin/pg_basebackup" -D "$work/standby" -h "$work/psock" -p 5433 -U tungnha -X stream -R
cat >>"$work/standby/postgresql.auto.conf" <<EOF
unix_socket_directories = '$work/ssock'
port = 5434
primary_conninfo = 'host=$work/psock port=5433 user=tungnha application_name=standby'
# Promoted, it has no standby of its own to wait for.
synchronous_standby_names = ''
EOF
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$work/standby" -l "$work/standby.log" -w start >/dev/null
psql "host=$work/psock port=5433 user=tungnha dbname=postgres" -qc "CREATE DATABASE drill"
sync_state=$(psql "host=$work/psock port=5433 user=tungnha dbname=postgres" -Atc "SELECT sync_state FROM pg_stat_replication")
say "standby streaming, replication: $sync_state"
[ "$sync_state" = "sync" ]

# The server, on whichever of the two accepts writes.
url="host=$work/psock,$work/ssock port=5433,5434 user=tungnha dbname=drill target_session_attrs=read-write connect_timeout=3"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$server_bin" serve --demo --database "$url" --listen "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
  sleep 0.2
done
code=$(grep -o 'cho tnv1: [A-Z0-9]*' "$work/server.log" | head -1 | awk '{print $3}')
export TUNGNHA_HOME="$work/phone"
"$cli_bin" enrol "http://127.0.0.1:$port" "$code" --name "drill" >/dev/null
hamlet=$("$cli_bin" --json hamlets | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
mapfile -t households < <("$cli_bin" --json households --hamlet "$hamlet" | python3 -c 'import json,sys; [print(h["id"]) for h in json.load(sys.stdin)]')
stored() {
  psql "$url" -Atc "SELECT headline FROM coverage WHERE hamlet = '$hamlet'" | python3 -c 'import json,sys; print(json.load(sys.stdin)["visits"])'
}
visit() { "$cli_bin" visit --household "${households[$1]}" --outcome not_home >/dev/null; }
sync_retrying() {
  for _ in $(seq 60); do
    "$cli_bin" sync >/dev/null 2>&1 && return 0
    sleep 1
  done
  return 1
}

before=$(stored)
for i in 1 2 3 4 5; do visit "$i"; done
sync_retrying
acknowledged=$((before + 5))
say "5 visits acknowledged before the kill; the database holds $(stored) (expected $acknowledged)"

# The primary dies without warning; the standby takes over.
kill -9 "$(head -1 "$work/primary/postmaster.pid")"
say "primary killed (SIGKILL)"
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$work/standby" -w promote >/dev/null
say "standby promoted"

# Work goes on: the server finds the new primary by itself.
for i in 6 7 8 9 10; do visit "$i"; done
sync_retrying
after=$(stored)
say "after the failover the database holds $after visits (expected $((acknowledged + 5)))"
[ "$after" -eq $((acknowledged + 5)) ]
"$server_bin" admin --database "$url" verify
say "every acknowledged visit survived the failover"

# And the server stops cleanly when asked (it once aborted closing its connections).
kill -TERM "$server_pid"
status=0
wait "$server_pid" || status=$?
server_pid=""
say "the server stopped with status $status"
[ "$status" -eq 0 ]
