# Sourced by tests/run and testnet/esgnet: makes sure the Debian packages
# esgledger builds with are installed. As root it installs what is missing
# with apt-get; otherwise it prints the one command to run and fails.
ESG_DEB_PACKAGES="build-essential cmake pkg-config git curl ca-certificates python3
libsecp256k1-dev liblmdb-dev libuv1-dev libprotobuf-c-dev protobuf-c-compiler
check libsodium-dev libssl-dev libmicrohttpd-dev libjansson-dev
libcurl4-openssl-dev libinih-dev"
# What tests/run needs on top: tests/integration/test_package.sh builds and
# checks the .deb (dpkg-shlibdeps, lintian, man -l); test_ngsi.sh expands
# NGSI-LD entities with a JSON-LD processor and validates them against the
# Smart Data Models schema; the explorer's test drives chromium.
ESG_DEB_TEST_PACKAGES="dpkg-dev lintian man-db python3-pyld python3-jsonschema chromium"

# esg_ensure_deps [PACKAGE...]: the packages given, or ESG_DEB_PACKAGES.
esg_ensure_deps() {
    local missing=() p
    for p in ${*:-$ESG_DEB_PACKAGES}; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
            || missing+=("$p")
    done
    ((${#missing[@]} == 0)) && return 0
    if [[ $(id -u) -ne 0 ]]; then
        echo "esgledger needs Debian packages that are not installed. Run:" >&2
        echo "  sudo apt-get install -y ${missing[*]}" >&2
        return 1
    fi
    echo "installing: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y --no-install-recommends "${missing[@]}" >&2; then
        apt-get update >&2 && apt-get install -y --no-install-recommends "${missing[@]}" >&2
    fi
}

# esg_ensure_web_deps: the explorer's and the API tests' npm packages
# (web/package-lock.json) in web/node_modules, installed exactly as locked
# (npm ci) when missing or when the lock changed since. Without npm, or
# when the registry cannot be reached, says so and returns 1: the node
# still builds, without the explorer.
esg_ensure_web_deps() {
    local web="$ESG_ROOT/web"
    if ! command -v npm >/dev/null 2>&1; then
        echo "npm not found: the explorer is left out of esgnode (Node.js 18 or later with npm builds it)" >&2
        return 1
    fi
    if [[ -f $web/node_modules/.esg-lock && $(cat "$web/node_modules/.esg-lock") == \
          $(sha256sum <"$web/package-lock.json") ]]; then
        return 0
    fi
    echo "installing the explorer's npm packages (web/package-lock.json)" >&2
    if ! (cd "$web" && npm ci --no-audit --no-fund --loglevel=error >&2); then
        echo "npm ci failed: the explorer is left out of esgnode" >&2
        return 1
    fi
    sha256sum <"$web/package-lock.json" >"$web/node_modules/.esg-lock"
}

# esg_build DIR [cmake args...]: configures (once) and builds into DIR.
esg_build() {
    local dir=$1; shift
    cmake -S "$ESG_ROOT" -B "$dir" "$@" >/dev/null &&
        cmake --build "$dir" -j "$(nproc)"
}
