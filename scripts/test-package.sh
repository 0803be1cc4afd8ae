#!/usr/bin/env bash
# Install a hookpoint .deb on this machine, try what it installed, and purge it again,
# leaving the machine as it was (also when a step fails). Needs root; CI runs it.
#
#   scripts/test-package.sh dist/hookpoint_VERSION_amd64.deb
#
# Refuses to run where hookpoint is already installed, so that it never removes an
# installation it did not make.
set -euo pipefail

deb=${1:?usage: scripts/test-package.sh PACKAGE.deb}
[ -f "$deb" ] || { echo "test-package.sh: $deb: no such file" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "test-package.sh: needs root (dpkg -i)" >&2; exit 2; }

installed() { [ "$(dpkg-query -W -f='${db:Status-Status}' hookpoint 2>/dev/null)" = installed ]; }
if installed; then
  echo "test-package.sh: hookpoint is already installed on this machine; remove it first (dpkg --purge hookpoint)" >&2
  exit 1
fi

purge() { dpkg --purge hookpoint >/dev/null 2>&1 || true; }
trap purge EXIT
fail() { echo "test-package.sh: $*" >&2; exit 1; }

version=$(dpkg-deb --field "$deb" Version)
echo "-- dpkg -i $(basename "$deb")"
dpkg -i "$deb" >/dev/null
installed || fail "dpkg -i did not leave hookpoint installed"
[ "$(command -v hookpoint)" = /usr/bin/hookpoint ] || fail "hookpoint is not /usr/bin/hookpoint on PATH"

echo "-- version"
# The package's version is the stamped one, written the Debian way (1.2.3~rc.1 for 1.2.3-rc.1).
out=$(hookpoint version)
echo "$out"
[ "$(head -n 1 <<<"$out")" = "hookpoint ${version//\~/-}" ] || fail "hookpoint version does not say ${version//\~/-} (the package is $version)"
grep -Eq '^  commit: +[0-9a-f]{40}$' <<<"$out" || fail "hookpoint version shows no stamped commit"
grep -Eq '^  built: +[0-9]{4}-[0-9]{2}-[0-9]{2}T' <<<"$out" || fail "hookpoint version shows no stamped date"
dashv=$(hookpoint --version)
[ "$(head -n 1 <<<"$dashv")" = "$(head -n 1 <<<"$out")" ] || fail "hookpoint --version and hookpoint version differ"
case "$(file -b /usr/bin/hookpoint 2>/dev/null || echo 'statically linked (file(1) not installed)')" in
  *"statically linked"*) ;;
  *) fail "/usr/bin/hookpoint is not statically linked" ;;
esac

echo "-- the shipped config"
conffiles=$(dpkg-query -W -f='${Conffiles}\n' hookpoint)
grep -q ' /etc/hookpoint/hookpoint.yaml ' <<<"$conffiles" || fail "/etc/hookpoint/hookpoint.yaml is not a conffile"
hookpoint check --config /etc/hookpoint/hookpoint.yaml
# With no --config, in a directory without hookpoint.yaml, the system config is used.
(cd / && env -u HOOKPOINT_CONFIG hookpoint emit hello.world)

for example in /usr/share/doc/hookpoint/examples/*.yaml; do
  hookpoint check --no-secrets --config "$example" >/dev/null || fail "the shipped example $example does not pass check"
done

echo "-- the server"
servedir=$(mktemp -d)
hookpoint serve --dry-run --config /etc/hookpoint/hookpoint.yaml --db "sqlite://$servedir/hookpoint.db" ||
  fail "hookpoint serve --dry-run with the shipped config failed"
[ "$(stat -c %a "$servedir/hookpoint.token")" = 600 ] || fail "the generated token file is not mode 600"
rm -rf "$servedir"

echo "-- man pages and completions"
for page in hookpoint hookpoint-check hookpoint-emit hookpoint-listen hookpoint-run hookpoint-vzdump hookpoint-serve hookpoint-token; do
  [ -f "/usr/share/man/man1/$page.1.gz" ] || fail "no man page $page(1)"
done
if command -v man >/dev/null; then
  page=$(MANPAGER=cat MANWIDTH=80 man hookpoint-listen 2>/dev/null) || fail "man hookpoint-listen failed"
  grep -q -- '--max-concurrency' <<<"$page" || fail "man hookpoint-listen does not show listen's flags"
fi
bash -c 'source /usr/share/bash-completion/completions/hookpoint && complete -p hookpoint' >/dev/null ||
  fail "the bash completion does not register for hookpoint"
[ -s /usr/share/zsh/vendor-completions/_hookpoint ] && [ -s /usr/share/fish/vendor_completions.d/hookpoint.fish ] ||
  fail "zsh or fish completion missing"
words=$(hookpoint __complete '' 2>/dev/null)
grep -q '^check' <<<"$words" || fail "hookpoint __complete does not offer check"

echo "-- systemd units"
for unit in hookpoint-listen.service hookpoint.service; do
  [ -f "/usr/lib/systemd/system/$unit" ] || fail "no $unit"
  if [ -d /run/systemd/system ] && systemctl is-enabled --quiet "$unit" 2>/dev/null; then
    fail "$unit was enabled by the package"
  fi
done
if command -v systemd-analyze >/dev/null; then
  systemd-analyze verify /usr/lib/systemd/system/hookpoint-listen.service /usr/lib/systemd/system/hookpoint.service
  echo "systemd-analyze verify: OK"
else
  echo "(systemd-analyze not installed: units not verified)"
fi

echo "-- logrotate"
[ -d /var/log/hookpoint ] || fail "no /var/log/hookpoint"
if command -v logrotate >/dev/null; then
  out=$(logrotate --debug /etc/logrotate.d/hookpoint 2>&1) || fail "logrotate --debug: $out"
  grep -q 'rotating pattern: /var/log/hookpoint/\*.jsonl' <<<"$out" || fail "logrotate does not read /etc/logrotate.d/hookpoint: $out"
  echo "logrotate --debug: OK"
else
  echo "(logrotate not installed: config not checked)"
fi

echo "-- dpkg --purge hookpoint"
dpkg --purge hookpoint >/dev/null
trap - EXIT
! installed || fail "hookpoint is still installed after dpkg --purge"
for p in /usr/bin/hookpoint /etc/hookpoint /etc/logrotate.d/hookpoint /var/log/hookpoint \
  /usr/lib/systemd/system/hookpoint-listen.service /usr/share/doc/hookpoint /usr/share/man/man1/hookpoint.1.gz; do
  [ ! -e "$p" ] || fail "$p is left after dpkg --purge"
done
echo "package test: OK ($version installed, tried and purged)"
