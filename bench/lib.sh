# Shared by the bench/*.sh scripts that start their own servers; sourced, never run. Servers are pinned to CPU 1
# in sessions of their own (as the reference harness starts them), load generators go on CPU 0, CPU time comes
# from schedstat.

# bench_args <script> "$@": --reps N and --duration S into $reps and $duration (the caller sets defaults), and
# --tls into $tls and --shapes "A B" into $shapes when the caller declared them.
bench_args() {
    local script="$1" usage
    shift
    usage="usage: bench/$script [--reps N] [--duration S]${tls+ [--tls]}${shapes+ [--shapes \"1x1 50x1\"]}"
    while (($#)); do
        case "$1" in
        --reps) reps="$2"; shift 2 ;;
        --duration) duration="$2"; shift 2 ;;
        --tls) [[ -n "${tls+set}" ]] || { echo "$usage" >&2; exit 2; }; tls=1; shift ;;
        --shapes) [[ -n "${shapes+set}" ]] || { echo "$usage" >&2; exit 2; }; shapes="$2"; shift 2 ;;
        *) echo "$usage" >&2; exit 2 ;;
        esac
    done
}

# bench_need "<commands>" "<Debian packages>": installs the packages when a command is missing.
bench_need() {
    local b
    for b in $1; do
        command -v "$b" >/dev/null && continue
        apt-get update -qq
        # shellcheck disable=SC2086
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $2
        return
    done
}

# bench_tmpdir <name>: $tmp, and a trap that kills every server started with bench_start and removes $tmp (and
# the files in $extra_files).
bench_tmpdir() {
    tmp="$(mktemp -d "/tmp/$1.XXXX")"
    mkdir -p "$tmp/tmp"
    pids=()
    extra_files=()
    trap bench_cleanup EXIT INT TERM
}
bench_cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$tmp" "${extra_files[@]}"
}

# bench_start <log> <command...>: starts a server on CPU 1; its pid is $started.
bench_start() {
    local log="$1"
    shift
    setsid taskset -c 1 "$@" >"$log" 2>&1 &
    started=$!
    pids+=("$started")
}

# bench_wait_ports <port...>: until each accepts a connection (30 s at most each: 10,000 routes take a while).
bench_wait_ports() {
    local port
    for port in "$@"; do
        for _ in $(seq 300); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
    done
}

# bench_cert: one ECDSA P-256 certificate for localhost in $tmp (cert.pem, key.pem, and haproxy.pem with both).
bench_cert() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/key.pem" \
        -out "$tmp/cert.pem" -days 2 -subj "/CN=localhost" \
        -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
    cat "$tmp/cert.pem" "$tmp/key.pem" >"$tmp/haproxy.pem"
}

# bench_nginx_conf <name> <lines>: $tmp/<name>.conf, one nginx worker with the reference harness's keep-alive, no
# access log, temp paths in $tmp; <lines> end its http block (upstreams and servers).
bench_nginx_conf() {
    cat >"$tmp/$1.conf" <<CONF
worker_processes 1;
pid $tmp/$1.pid;
error_log $tmp/$1.error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $tmp/tmp/body;
    proxy_temp_path $tmp/tmp/proxy;
    keepalive_timeout 75s;
    keepalive_requests 10000000;
$2
}
CONF
}

# What every nginx proxy of the benchmarks forwards with: HTTP/1.1 keep-alive to `upstream origin`.
bench_proxy_location='location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection ""; }'

# bench_origin: the origin, an nginx of its own on 127.0.0.1:18080 answering GET /hello, so no proxy is charged
# for its work.
bench_origin() {
    bench_nginx_conf origin '    server { listen 127.0.0.1:18080 backlog=4096;
             location = /hello { default_type text/plain; return 200 "Hello, World!"; } }'
    bench_start "$tmp/origin.out" nginx -p "$tmp" -c "$tmp/origin.conf" -g "daemon off; master_process off;"
}

# bench_three_proxies <nginx port> <haproxy port> <meshgate port>: the origin, then nginx, HAProxy and meshgate
# ($bin) from $tmp/nginx.conf, $tmp/haproxy.cfg and $tmp/meshgate.json; pids in $nginx_pid, $haproxy_pid and
# $meshgate_pid, once every port answers.
bench_three_proxies() {
    bench_origin
    bench_start "$tmp/nginx.out" nginx -p "$tmp" -c "$tmp/nginx.conf" -g "daemon off; master_process off;"
    nginx_pid=$started
    bench_start "$tmp/haproxy.out" haproxy -db -f "$tmp/haproxy.cfg"
    haproxy_pid=$started
    bench_start "$tmp/meshgate.out" "$bin" run --config "$tmp/meshgate.json" --workers 1
    meshgate_pid=$started
    bench_wait_ports 18080 "$@"
}

# bench_pick <target> <nginx port> <haproxy port> <meshgate port>: $pid and $port of one of the three proxies.
bench_pick() {
    case "$1" in
    nginx) pid=$nginx_pid port=$2 ;;
    haproxy) pid=$haproxy_pid port=$3 ;;
    meshgate) pid=$meshgate_pid port=$4 ;;
    esac
}

# runtime <pid>: run time (ns) of every thread of a process, from schedstat.
runtime() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%.0f\n", s}'; }

# rate_and_cpu <count> <runtime before> <runtime after> <seconds>: "count/s cpu_µs_per_count".
rate_and_cpu() {
    python3 -c "import sys; r=int(sys.argv[1]); print(f'{r/float(sys.argv[4]):.0f} {(float(sys.argv[3])-float(sys.argv[2]))/1e3/max(r,1):.1f}')" \
        "$1" "$2" "$3" "$4"
}

# bench_order <rep>: the three targets in the order repetition <rep> runs them, rotated by one each rep, so no
# target always runs first or last of a shape (the VM's drift within a shape then falls on each in turn).
bench_order() {
    local order=(nginx haproxy meshgate) k=$(( ($1 - 1) % 3 ))
    echo "${order[@]:k}" "${order[@]:0:k}"
}

# median <column> < "a b;a b;...": the median of one column of the reps.
median() { tr ';' '\n' | awk 'NF' | sort -n -k"$1" | awk -v k="$1" '{v[NR]=$k} END {print v[int((NR+1)/2)]}'; }

# paired_ratio <target reps> <nginx reps>: the median over repetitions of target req/s ÷ nginx req/s in the same
# repetition. The proxies run each shape seconds apart, so a repetition's pair shares the VM's speed of the moment;
# the ratio of the two medians mixes repetitions taken minutes apart.
paired_ratio() {
    python3 -c '
import statistics, sys
reps = lambda text: [float(r.split()[0]) for r in text.split(";") if r.strip()]
print(f"{statistics.median(t / n for t, n in zip(reps(sys.argv[1]), reps(sys.argv[2]))):.3f}")' "$1" "$2"
}

# ratio_table <row label> <row...>: medians of results[<target>,<row>] for nginx, haproxy and meshgate, with
# their ratios to nginx, and the median of the per-repetition req/s ratios (`paired_ratio`).
ratio_table() {
    local label="$1" row target nrps ncpu rps cpu
    shift
    printf '%-10s %-10s %12s %14s %10s %10s %10s\n' "$label" target "req/s" "CPU µs/req" "req/s÷ngx" "CPU÷ngx" \
        "paired"
    for row in "$@"; do
        nrps=$(median 1 <<<"${results[nginx,$row]}")
        ncpu=$(median 2 <<<"${results[nginx,$row]}")
        for target in nginx haproxy meshgate; do
            rps=$(median 1 <<<"${results[$target,$row]}")
            cpu=$(median 2 <<<"${results[$target,$row]}")
            printf '%-10s %-10s %12s %14s %10.3f %10.3f %10s\n' "$row" "$target" "$rps" "$cpu" \
                "$(python3 -c "print($rps/$nrps)")" "$(python3 -c "print($cpu/$ncpu)")" \
                "$(paired_ratio "${results[$target,$row]}" "${results[nginx,$row]}")"
        done
    done
}
