#!/usr/bin/env bash
# Builds meshgate's OCI image from nothing (SPEC §12): no base image, no container engine. One layer holds
# the four release binaries, exactly the shared libraries `ldd` names for them (symlinks kept, so the dynamic
# loader finds them at the paths the binaries ask for), CA certificates, /etc/passwd and /etc/group with
# user and group 65532 (nonroot) and a world-writable /tmp. The layer is tagged four times, once per
# program, each with its own entrypoint and all sharing the one layer blob:
#
#   ghcr.io/meshgate/meshgate:VERSION              meshgate run --config /etc/meshgate/routes.json
#   ghcr.io/meshgate/auth-service:VERSION          auth-service
#   ghcr.io/meshgate/profile-service:VERSION       profile-service
#   ghcr.io/meshgate/relationship-service:VERSION  relationship-service
#
# These are the names deploy/kubernetes/ runs; VERSION is what `meshgate version` reports. The result is an OCI
# image layout at $MESHGATE_IMAGE_OUT (default .build/image), whose path is printed last. Push it with e.g.
#   skopeo copy oci:.build/image:ghcr.io/meshgate/meshgate:0.1.0 docker://REGISTRY/meshgate:0.1.0
#
# Usage: scripts/build-image.sh [--binary-dir DIR]
#   --binary-dir DIR (or MESHGATE_BINARY_DIR): package the binaries already in DIR (e.g. .build/debug, whose
#   Swift runtime libraries ldd then names too) instead of `swift build -c release --static-swift-stdlib`.
#   MESHGATE_IMAGE_REPO: registry/namespace prefix of the tags (default ghcr.io/meshgate).
#   SOURCE_DATE_EPOCH: every file time and the image's creation time (default: the last commit's time), so two
#   builds of the same binaries give the same layer digest.
# Needs: umoci, GNU tar, ldd (and swift without --binary-dir).
set -euo pipefail
caller="$PWD"
cd "$(dirname "$0")/.."

die() {
    echo "build-image: $*" >&2
    exit 1
}

binary_dir="${MESHGATE_BINARY_DIR:-}"
while (($#)); do
    case "$1" in
        --binary-dir) (($# >= 2)) || die "--binary-dir needs a directory"; binary_dir="$2"; shift 2 ;;
        --binary-dir=*) binary_dir="${1#*=}"; shift ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument '$1' (usage: scripts/build-image.sh [--binary-dir DIR])" ;;
    esac
done

command -v umoci >/dev/null || die "umoci not found (Debian: apt-get install umoci)"
command -v ldd >/dev/null || die "ldd not found"

programs=(meshgate auth-service profile-service relationship-service)
if [[ -z "$binary_dir" ]]; then
    # The Swift runtime goes into the binaries; what stays dynamic is glibc, libstdc++, OpenSSL and SQLite.
    swift build -c release --static-swift-stdlib >&2
    binary_dir="$(swift build -c release --static-swift-stdlib --show-bin-path)"
fi
# Paths the caller gives are relative to where they ran the script; the default output is the repository's.
[[ "$binary_dir" == /* ]] || binary_dir="$caller/$binary_dir"
for program in "${programs[@]}"; do
    [[ -x "$binary_dir/$program" ]] || die "no executable $binary_dir/$program (build it, or point --binary-dir elsewhere)"
done

version="$("$binary_dir/meshgate" version | awk '$1 == "meshgate" { print $2; exit }')"
[[ -n "$version" ]] || die "'$binary_dir/meshgate version' did not report a version"
repo="${MESHGATE_IMAGE_REPO:-ghcr.io/meshgate}"
out="${MESHGATE_IMAGE_OUT:-.build/image}"
[[ -z "${MESHGATE_IMAGE_OUT:-}" || "$out" == /* ]] || out="$caller/$out"
epoch="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}"
created="$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)"
case "$(uname -m)" in
    x86_64) architecture=amd64 ;;
    aarch64) architecture=arm64 ;;
    *) architecture="$(uname -m)" ;;
esac

work="$(mktemp -d "${TMPDIR:-/tmp}/meshgate-image.XXXXXX")"
trap 'rm -rf "$work"' EXIT
root="$work/rootfs"
mkdir -p "$root"

# Copies host path $1 to the same path under $root. Every symlink on the way (a library's soname link, or
# a directory link such as /lib -> usr/lib on merged-/usr systems) is recreated as a symlink and followed,
# so the image resolves each path the way the host does.
add_path() {
    local path="$1" prefix="" rest part target
    rest="${path#/}"
    while [[ -n "$rest" ]]; do
        part="${rest%%/*}"
        if [[ "$rest" == */* ]]; then rest="${rest#*/}"; else rest=""; fi
        prefix="$prefix/$part"
        if [[ -L "$prefix" ]]; then
            target="$(readlink "$prefix")"
            if [[ ! -L "$root$prefix" ]]; then
                [[ -e "$root$prefix" ]] && die "$prefix is a symlink on this host but already a file in the image"
                mkdir -p "$root$(dirname "$prefix")"
                ln -s "$target" "$root$prefix"
            fi
            [[ "$target" == /* ]] || target="$(dirname "$prefix")/$target"
            add_path "$(realpath -ms "$target${rest:+/$rest}")"
            return
        fi
    done
    [[ -f "$path" ]] || die "$path: not a regular file"
    [[ -e "$root$path" ]] && return
    mkdir -p "$root$(dirname "$path")"
    cp "$path" "$root$path"
}

# Library paths ldd resolves ("name => /path (addr)", and the loader itself as "/path (addr)").
libraries() {
    local output
    output="$(ldd "$1")" || die "ldd $1 failed: $output"
    awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$output"
    if grep -q "not found" <<<"$output"; then die "ldd $1: a library is missing on this host:"$'\n'"$output"; fi
}

mkdir -p "$root/usr/local/bin"
for program in "${programs[@]}"; do
    install -m 0755 "$binary_dir/$program" "$root/usr/local/bin/$program"
    while read -r library; do add_path "$library"; done < <(libraries "$binary_dir/$program")
done
add_path /etc/ssl/certs/ca-certificates.crt

# /data: where the backends' manifests mount their volume (owned by the volume, fsGroup 65532). /proc, /sys,
# /dev: mount points a runtime fills; `chroot` users mount /proc there, which the Swift runtime reads the
# command line from (without it `meshgate run --config X` sees no arguments).
mkdir -p "$root/etc/meshgate" "$root/tmp" "$root/data" "$root/proc" "$root/sys" "$root/dev"
chmod 1777 "$root/tmp"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' \
    >"$root/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$root/etc/group"
# glibc's built-in NSS (files, dns) serves these; Kubernetes mounts /etc/hosts and /etc/resolv.conf.
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$root/etc/nsswitch.conf"

# Fixed order, owners and times: the same binaries give the same layer bytes.
(cd "$root" && find . -mindepth 1 -maxdepth 1 -printf '%P\n' | LC_ALL=C sort) >"$work/top"
tar --create --file "$work/layer.tar" --directory "$root" --format=gnu --sort=name --numeric-owner \
    --owner=0 --group=0 --mtime="@$epoch" --files-from "$work/top"

# A fresh layout each time: a stale tag or blob from an earlier build never survives. Only an earlier
# layout (or an empty directory) is replaced, never a directory the variable names by mistake.
if [[ -e "$out" ]]; then
    [[ -f "$out/oci-layout" || -z "$(ls -A "$out")" ]] || die "$out exists and is not an OCI image layout; not replacing it"
    rm -rf "$out"
fi
mkdir -p "$(dirname "$out")"
umoci init --layout "$out"
main="$repo/meshgate:$version"
umoci new --image "$out:$main"
umoci raw add-layer --image "$out:$main" --history.created "$created" --history.created_by "scripts/build-image.sh" \
    "$work/layer.tar"
common=(--created "$created" --history.created "$created" --os linux --architecture "$architecture"
    --config.user 65532:65532 --config.workingdir / --config.env PATH=/usr/local/bin
    --config.label "org.opencontainers.image.version=$version")
umoci config --image "$out:$main" "${common[@]}" --config.stopsignal SIGTERM \
    --config.entrypoint /usr/local/bin/meshgate --config.entrypoint run \
    --config.cmd --config --config.cmd /etc/meshgate/routes.json \
    --config.exposedports 8080/tcp --config.exposedports 9901/tcp
for program in "${programs[@]:1}"; do
    umoci config --image "$out:$main" --tag "$repo/$program:$version" "${common[@]}" \
        --clear config.cmd --clear config.exposedports --config.entrypoint "/usr/local/bin/$program"
done
# `umoci config --tag` leaves the intermediate manifests and configs behind; keep only what the tags use.
umoci gc --layout "$out"
umoci ls --layout "$out" >&2
echo "$(cd "$out" && pwd)"
