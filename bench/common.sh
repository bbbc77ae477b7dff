# Helpers shared by bench/run and bench/nodes (sourced).

# utime + stime of process $1, in clock ticks.
proc_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# CPU ticks of every PostgreSQL process on this machine (its backends serve Gatehouse's pools).
postgres_ticks() {
  local p total=0
  for p in $(pgrep -x postgres); do total=$((total + $(proc_ticks "$p"))); done
  echo "$total"
}
basic() { printf 'Basic %s' "$(printf '%s:%s' "$1" bench-secret | base64 -w0)"; }
json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }
# wait_up URL: until it answers, for at most 20 s.
wait_for() {
  for _ in $(seq 1 400); do curl -sf "$1" >/dev/null && return 0; sleep 0.05; done
  echo "server at $1 did not come up" >&2; exit 1
}
# A database URL for database $2 on the server of admin URL $1.
# The admin URL with another database. Without an sslmode of its own it gets sslmode=disable:
# the database is on this machine, and the figures (all taken so) measure Gatehouse, not TLS to
# it (Gatehouse's default, as libpq's, is `prefer`).
pg_database_url() {
  python3 -c 'import sys,urllib.parse as u; p=u.urlsplit(sys.argv[1]); q=p.query if "sslmode=" in p.query else "&".join(x for x in [p.query, "sslmode=disable"] if x); print(p._replace(path="/"+sys.argv[2], query=q).geturl())' "$1" "$2"
}
