# Test services for CI and developers: `source .ci/services.sh; start_services`.
# Chromium (browser tests) and PostgreSQL (database tests) from Debian's packages when missing;
# PostgreSQL runs from a throw-away data folder on 127.0.0.1, and EMOETHICS_TEST_DATABASE_URL
# points the tests at it. Without them, the tests that need them are skipped with a reason.

PG_PORT="${PG_PORT:-54329}"

_apt_install() {
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    if [ -z "${_APT_UPDATED:-}" ]; then apt-get update -qq >/dev/null 2>&1 || true; _APT_UPDATED=1; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1 || echo "could not install $*"
  fi
}

start_services() {
  [ -x /usr/bin/chromium ] || _apt_install chromium
  local bin
  bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
  if [ -z "$bin" ]; then _apt_install postgresql; bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"; fi
  if [ -z "$bin" ]; then echo "PostgreSQL unavailable: its tests will be skipped"; return 0; fi
  PG_DIR="$(mktemp -d /tmp/emoethics-pg.XXXXXX)"
  local run=()
  if [ "$(id -u)" = 0 ]; then chown postgres "$PG_DIR"; run=(runuser -u postgres --); fi
  "${run[@]}" "$bin/initdb" -D "$PG_DIR/data" -U postgres --auth=trust >/dev/null
  "${run[@]}" "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w \
    -o "-h 127.0.0.1 -p $PG_PORT -k $PG_DIR" start >/dev/null
  "${run[@]}" "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres emoethics_test
  export EMOETHICS_TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/emoethics_test"
  PG_BIN="$bin"
  PG_RUN=("${run[@]}")
  echo "PostgreSQL on 127.0.0.1:$PG_PORT for the tests"
}

stop_services() {
  if [ -n "${PG_DIR:-}" ]; then
    "${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
  fi
}
