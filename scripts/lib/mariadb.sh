# mariadb.sh, sourced by the scripts: throwaway MariaDB servers in a work
# directory. The sourcing script sets WORK (the directory, removed by its
# cleanup) and PIDS (an array of the processes its cleanup kills), and may
# set SCRIPT (its name, for messages).

# free_port prints a free TCP port on 127.0.0.1.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# start_mariadb NAME USER PASSWORD DB [MARIADBD_ARG...] bootstraps a data
# directory in WORK/NAME, starts mariadbd on a free port of 127.0.0.1 with
# USER (password PASSWORD, every privilege) and database DB, and waits until
# USER can log in. It sets MARIADB_PORT and MARIADB_PID, and appends the pid
# to PIDS. The server's log is WORK/NAME-error.log.
start_mariadb() {
	local name=$1 user=$2 password=$3 db=$4
	shift 4
	local user_args=()
	[ "$(id -u)" = 0 ] && user_args=(--user=root)
	mariadb-install-db --no-defaults --datadir="$WORK/$name" --auth-root-authentication-method=normal \
		--skip-test-db "${user_args[@]}" >"$WORK/$name-install.log" 2>&1
	MARIADB_PORT=$(free_port)
	cat >"$WORK/$name-init.sql" <<SQL
CREATE USER IF NOT EXISTS '$user'@'%' IDENTIFIED BY '$password';
GRANT ALL PRIVILEGES ON *.* TO '$user'@'%';
CREATE DATABASE IF NOT EXISTS $db;
SQL
	mariadbd --no-defaults --datadir="$WORK/$name" --port="$MARIADB_PORT" --bind-address=127.0.0.1 \
		--socket="$WORK/$name.sock" --pid-file="$WORK/$name.pid" --log-error="$WORK/$name-error.log" \
		--init-file="$WORK/$name-init.sql" "${user_args[@]}" --skip-name-resolve --max-connections=500 \
		--skip-log-bin --performance-schema=OFF "$@" &
	MARIADB_PID=$!
	PIDS+=("$MARIADB_PID")
	for _ in $(seq 1 300); do
		mariadb --no-defaults -h127.0.0.1 -P"$MARIADB_PORT" -u"$user" -p"$password" -e 'SELECT 1' "$db" >/dev/null 2>&1 && return 0
		kill -0 "$MARIADB_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "${SCRIPT:-mariadb.sh}: MariaDB $name did not start: see $WORK/$name-error.log" >&2
	return 1
}
