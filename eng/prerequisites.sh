# Installs the machine-level programs the system needs when they are missing:
# redis-server (Debian package), the PostgreSQL server binaries, ruby (the BBB node's post-publish hook is
# tested under the interpreter BBB runs it with), nginx (the recording playback snippet is checked with `nginx -t`)
# and promtool from Debian's prometheus package (the alerting rules in deploy/prometheus are checked and unit-tested).
# Sourced by test.sh; the AppHost and the test fixtures do the same for PostgreSQL and Redis in code
# (Scalelite.LocalServers/Prerequisites.cs).

ensure_prerequisites() {
  local missing=()
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  command -v ruby >/dev/null 2>&1 || missing+=(ruby)
  command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
  command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
  [ -x /usr/lib/postgresql/15/bin/initdb ] || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "Installing ${missing[*]} ..." >&2
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >&2 || {
    echo "Could not install ${missing[*]}; install them and run again." >&2
    return 1
  }
}
