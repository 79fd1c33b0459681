#!/usr/bin/env bash
# Throwaway PostgreSQL cluster for the demo and for CI.
#   .ci/postgres.sh install        install PostgreSQL from Debian's packages if no initdb is found
#   .ci/postgres.sh start DIR      init (if needed) and start a cluster in DIR; prints its postgres:// URL
#   .ci/postgres.sh stop DIR       stop it
# PostgreSQL refuses to run as root: as root the cluster runs as the user "postgres".
set -euo pipefail

find_bin() {
	local d
	if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
		dirname "$(readlink -f "$(command -v initdb)")"
		return 0
	fi
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
			echo "$d"
			return 0
		fi
	done
	return 1
}

as_owner() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

cmd=${1:-}
case "$cmd" in
install)
	if find_bin >/dev/null; then exit 0; fi
	echo "postgres.sh: installing PostgreSQL from Debian's packages" >&2
	if [ "$(id -u)" != 0 ]; then
		echo "postgres.sh: PostgreSQL is not installed and this is not root; install the Debian package postgresql" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	apt-get install -y -qq postgresql >&2
	# Debian's package starts a cluster of its own on 5432; we use throwaway ones.
	find_bin >/dev/null
	;;
start)
	dir=${2:?usage: postgres.sh start DIR}
	bin=$(find_bin) || { echo "postgres.sh: no PostgreSQL found; run: .ci/postgres.sh install" >&2; exit 1; }
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	# The cluster lives in a folder of its own under /tmp that its owner can
	# reach (the work tree may sit below a folder only root can enter);
	# DIR/location points at it.
	if [ -f "$dir/location" ] && [ -d "$(cat "$dir/location")" ]; then
		home=$(cat "$dir/location")
	else
		home=$(mktemp -d /tmp/fullstop-pg.XXXXXX)
		chmod 755 "$home"
		echo "$home" >"$dir/location"
	fi
	if [ "$(id -u)" = 0 ]; then
		id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql postgres
		chown postgres "$home"
	fi
	if [ ! -f "$home/data/PG_VERSION" ]; then
		as_owner "$bin/initdb" -D "$home/data" -U postgres --auth=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 ||
			{ cat "$dir/initdb.log" >&2; exit 1; }
	fi
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
		echo $((20000 + RANDOM % 20000)))
	as_owner "$bin/pg_ctl" -D "$home/data" -l "$home/postgres.log" -w \
		-o "-p $port -k $home -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
		start >/dev/null || { cat "$home/postgres.log" >&2; exit 1; }
	echo "$port" >"$dir/port"
	"$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -qtAc "CREATE DATABASE fullstop" >/dev/null 2>&1 || true
	echo "postgres://postgres@127.0.0.1:$port/fullstop?sslmode=disable"
	;;
stop)
	dir=${2:?usage: postgres.sh stop DIR}
	bin=$(find_bin) || exit 0
	[ -f "$dir/location" ] || exit 0
	home=$(cat "$dir/location")
	[ -f "$home/data/postmaster.pid" ] && as_owner "$bin/pg_ctl" -D "$home/data" -m fast -w stop >/dev/null 2>&1 || true
	rm -rf "$home" "$dir/location"
	;;
psql)
	dir=${2:?usage: postgres.sh psql DIR [args]}
	shift 2
	bin=$(find_bin)
	exec "$bin/psql" -h 127.0.0.1 -p "$(cat "$dir/port")" -U postgres -d fullstop "$@"
	;;
*)
	echo "usage: postgres.sh install | start DIR | stop DIR | psql DIR [args]" >&2
	exit 2
	;;
esac
