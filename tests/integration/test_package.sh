#!/usr/bin/env bash
# Installation and the Debian package (issue 10, packaging/packaging.cmake):
#  - cmake --install into a scratch prefix installs exactly the programs,
#    man pages, docs, unit, sysusers.d file and configuration; the programs
#    print project()'s version, the man pages format without a warning;
#  - cpack -G DEB builds esgledger_VERSION-REV_ARCH.deb whose Depends names
#    the Debian package of every shared library the programs load, whose
#    programs run from an extracted tree with Debian's libraries, and on
#    which lintian reports no error;
#  - systemd-analyze verify accepts the unit (skipped, with a message,
#    where systemd-analyze is missing).
# Registered for the build without sanitizers only (tests/CMakeLists.txt).
# Exit 77 (skipped) only when a tool it needs is missing and cannot be
# installed (not root, or apt-get failed).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
: "${ESG_VERSION:?run through ctest (ESG_VERSION unset)}"

# The tools, from the packages tests/run installs (scripts/deps.sh,
# ESG_DEB_TEST_PACKAGES); installed here when missing, as root.
need=()
for tool in cpack:cmake dpkg-deb:dpkg dpkg-shlibdeps:dpkg-dev lintian:lintian man:man-db; do
    command -v "${tool%%:*}" >/dev/null || need+=("${tool#*:}")
done
if ((${#need[@]})); then
    # shellcheck source=../../scripts/deps.sh
    ESG_ROOT=$ESG_SRC_DIR . "$ESG_SRC_DIR/scripts/deps.sh"
    if ! esg_ensure_deps "${need[@]}" >"$T/deps.log" 2>&1; then
        cat "$T/deps.log" >&2
        echo "SKIP: needs ${need[*]}, which cannot be installed here" >&2
        exit 77
    fi
fi

# man(1) as lintian runs it: any line on stderr is a warning.
man_check() {
    local page=$1 err
    err=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$page" 2>&1 >/dev/null) ||
        fail "man -l $page failed: $err"
    [[ -z $err ]] || fail "man -l $page warns: $err"
    # Each page is whole (NAME to SEE ALSO) and names its version.
    local text
    text=$(MANWIDTH=80 man -l "$page" 2>/dev/null)
    for h in NAME SYNOPSIS DESCRIPTION FILES "SEE ALSO"; do
        grep -q "^$h" <<<"$text" || fail "$page has no $h section"
    done
    grep -q "esgledger $ESG_VERSION" <<<"$text" || fail "$page does not say esgledger $ESG_VERSION"
}

# --- cmake --install ------------------------------------------------------
P=$T/prefix
cmake --install "$ESG_BIN_DIR" --prefix "$P" >"$T/install.log" 2>&1 ||
    { cat "$T/install.log" >&2; fail "cmake --install failed"; }
expected="bin/esgnode
bin/esgwallet
etc/esgledger/esgnode.conf
lib/systemd/system/esgnode.service
lib/sysusers.d/esgledger.conf
share/bash-completion/completions/esgnode
share/bash-completion/completions/esgwallet
share/doc/esgledger/changelog.Debian.gz
share/doc/esgledger/copyright
share/lintian/overrides/esgledger
share/man/man1/esgnode.1.gz
share/man/man1/esgwallet.1.gz
share/man/man5/esgnode.conf.5.gz"
got=$(cd "$P" && find . -type f -o -type l | sed 's|^\./||' | LC_ALL=C sort)
[[ $got == "$expected" ]] || fail "cmake --install installed:
$got
expected:
$expected"
pass "cmake --install: the programs, bash completion, man pages, docs, unit, sysusers.d file and config, nothing else"

[[ $("$P/bin/esgnode" --version) == "esgnode $ESG_VERSION" ]] || fail "esgnode --version: $("$P/bin/esgnode" --version)"
[[ $("$P/bin/esgwallet" --version) == "esgwallet $ESG_VERSION" ]] || fail "esgwallet --version: $("$P/bin/esgwallet" --version)"
pass "installed esgnode and esgwallet --version: $ESG_VERSION"

for page in "$P"/share/man/man1/esgnode.1.gz "$P"/share/man/man1/esgwallet.1.gz \
            "$P"/share/man/man5/esgnode.conf.5.gz; do
    gzip -t "$page" || fail "$page is not gzip"
    man_check "$page"
done
pass "man --warnings -l: three pages, no warning"

# The installed configuration is accepted and changes nothing: a datadir
# runs with it (a second install keeps an edited copy).
grep -q "^ExecStart=$P/bin/esgnode run --datadir /var/lib/esgnode --config $P/etc/esgledger/esgnode.conf\$" \
    "$P/lib/systemd/system/esgnode.service" || fail "unit's ExecStart: $(grep ExecStart "$P/lib/systemd/system/esgnode.service")"
echo "; edited" >>"$P/etc/esgledger/esgnode.conf"
cmake --install "$ESG_BIN_DIR" --prefix "$P" >/dev/null 2>&1 || fail "second cmake --install failed"
tail -1 "$P/etc/esgledger/esgnode.conf" | grep -q '^; edited$' || fail "a second install overwrote the edited config"
if "$P/bin/esgnode" run --datadir "$T/nodatadir" --config "$P/etc/esgledger/esgnode.conf" 2>"$T/run.err"; then
    fail "esgnode ran without a datadir"
fi
grep -q "node_key.json" "$T/run.err" || fail "the shipped config was not accepted: $(cat "$T/run.err")"
pass "the installed unit names the installed esgnode and config; the config parses and survives a reinstall"

# --- systemd unit -----------------------------------------------------------
unit_verify() {
    local unit=$1 out
    if ! out=$(MANPATH=$2 systemd-analyze verify "$unit" 2>&1) || [[ -n $out ]]; then
        fail "systemd-analyze verify $unit: $out"
    fi
}
if command -v systemd-analyze >/dev/null; then
    unit_verify "$P/lib/systemd/system/esgnode.service" "$P/share/man"
    pass "systemd-analyze verify: the installed unit"
else
    echo "skip: systemd-analyze not found, the unit is not verified"
fi

# --- the .deb -----------------------------------------------------------------
cpack -G DEB --config "$ESG_BIN_DIR/CPackConfig.cmake" -B "$T/deb" >"$T/cpack.log" 2>&1 ||
    { cat "$T/cpack.log" >&2; fail "cpack -G DEB failed"; }
arch=$(dpkg --print-architecture)
debs=("$T"/deb/esgledger_"$ESG_VERSION"-*_"$arch".deb)
[[ ${#debs[@]} == 1 && -f ${debs[0]} ]] || fail "cpack made: $(ls "$T/deb")"
deb=${debs[0]}
field() { dpkg-deb -f "$deb" "$1"; }
[[ $(field Package) == esgledger ]] || fail "Package: $(field Package)"
version=$(field Version)
[[ $version == "$ESG_VERSION"-* ]] || fail "Version: $version, project() says $ESG_VERSION"
[[ -n $(field Maintainer) && $(field Section) == net ]] || fail "Maintainer/Section: $(field Maintainer) / $(field Section)"
pass "cpack: $(basename "$deb")"

R=$T/root
dpkg-deb -x "$deb" "$R"
got=$(cd "$R" && find . -type f -o -type l | sed 's|^\./||' | LC_ALL=C sort)
want=$(sed -e 's|^etc/|/etc/|' -e '\|^/|!s|^|usr/|' -e 's|^/||' <<<"$expected" | LC_ALL=C sort)
[[ $got == "$want" ]] || fail "the .deb holds:
$got
expected:
$want"
[[ $(dpkg-deb --ctrl-tarfile "$deb" | tar -t | sed 's|^\./||' | grep . | LC_ALL=C sort | tr '\n' ' ') == "conffiles control md5sums postinst postrm prerm " ]] ||
    fail "control files: $(dpkg-deb --ctrl-tarfile "$deb" | tar -t | tr '\n' ' ')"
[[ $(dpkg-deb -I "$deb" conffiles) == /etc/esgledger/esgnode.conf ]] || fail "conffiles: $(dpkg-deb -I "$deb" conffiles)"
changelog_version=$(zcat "$R/usr/share/doc/esgledger/changelog.Debian.gz" | head -1 | sed -n 's/^esgledger (\([^)]*\)).*/\1/p')
[[ $changelog_version == "$version" ]] || fail "changelog's newest entry is $changelog_version, the package $version"
for page in "$R"/usr/share/man/man*/*.gz; do
    man_check "$page"
done
grep -q '^ExecStart=/usr/bin/esgnode run --datadir /var/lib/esgnode --config /etc/esgledger/esgnode.conf$' \
    "$R/usr/lib/systemd/system/esgnode.service" || fail "the .deb's ExecStart: $(grep ExecStart "$R/usr/lib/systemd/system/esgnode.service")"
pass "the .deb: files under /usr and /etc, conffile, maintainer scripts, changelog $version, man pages"

# Run from the extracted tree: every library comes from Debian's packages.
for prog in esgnode esgwallet; do
    [[ $(env -u LD_LIBRARY_PATH "$R/usr/bin/$prog" --version) == "$prog $ESG_VERSION" ]] ||
        fail "extracted $prog --version: $(env -u LD_LIBRARY_PATH "$R/usr/bin/$prog" --version 2>&1)"
done
# Depends names the package of each library they link (NEEDED; ldd finds
# its path, and the libraries those need in turn, which Depends covers
# through the packages it names).
depends=$(field Depends)
libs=""
for prog in esgnode esgwallet; do
    map=$(env -u LD_LIBRARY_PATH ldd "$R/usr/bin/$prog")
    for soname in $(readelf -d "$R/usr/bin/$prog" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
        path=$(awk -v s="$soname" '$1 == s && $2 == "=>" {print $3}' <<<"$map")
        [[ $path == /* ]] || fail "$prog needs $soname, which ldd does not find: $map"
        libs+="$path"$'\n'
    done
done
libs=$(LC_ALL=C sort -u <<<"$libs" | grep .) || fail "no NEEDED libraries found"
# The package that ships a library: dpkg knows it under the path ldd
# prints, the one it resolves to, or either with /usr (merged /usr).
owner() {
    local p q out
    for p in "$1" "$(readlink -f "$1")"; do
        for q in "$p" "/usr$p" "${p#/usr}"; do
            out=$(dpkg -S "$q" 2>/dev/null) || continue
            echo "${out%%:*}"
            return 0
        done
    done
    return 1
}
for lib in $libs; do
    pkg=$(owner "$lib") || fail "$lib belongs to no Debian package"
    grep -Eq "(^|, )$pkg( \(|,|$)" <<<"$depends" || fail "Depends lacks $pkg (for $lib): $depends"
done
for pkg in libsecp256k1-1 liblmdb0 libuv1 libprotobuf-c1 libsodium23 libssl3 libmicrohttpd12 \
           libjansson4 libcurl4 libinih1 libc6 adduser; do
    grep -Eq "(^|, )$pkg( \(|,|$)" <<<"$depends" || fail "Depends lacks $pkg: $depends"
done
pass "extracted esgnode and esgwallet run on Debian's libraries; Depends: $depends"

if command -v systemd-analyze >/dev/null; then
    # The unit names /usr/bin/esgnode, which is not installed here: verify
    # a copy that names the extracted one.
    mkdir -p "$T/unit"
    sed "s|/usr/bin/esgnode|$R/usr/bin/esgnode|" "$R/usr/lib/systemd/system/esgnode.service" \
        >"$T/unit/esgnode.service"
    unit_verify "$T/unit/esgnode.service" "$R/usr/share/man"
    pass "systemd-analyze verify: the .deb's unit"
fi

# Exit status 1: a tag at --fail-on's level (error); anything else but 0:
# lintian could not check the package.
rc=0
lintian --fail-on error "$deb" >"$T/lintian.log" 2>&1 || rc=$?
cat "$T/lintian.log"
grep -q '^E:' "$T/lintian.log" && fail "lintian reports errors"
((rc == 0)) || fail "lintian exited with status $rc"
pass "lintian: no errors"
