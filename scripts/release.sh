#!/usr/bin/env bash
# Release build: static, stripped hookpoint binaries with the version stamped, and a
# Debian package for each, in dist/.
#
#   scripts/release.sh                  # amd64 and arm64: binaries, .deb packages, SHA256SUMS
#   scripts/release.sh amd64            # one architecture
#   scripts/release.sh --no-deb arm64   # binaries only
#   VERSION=1.2.3 scripts/release.sh    # a version other than the one git describes
#
# Output:
#   dist/hookpoint-linux-ARCH           the binary (CGO_ENABLED=0, -trimpath, -s -w)
#   dist/hookpoint_VERSION_ARCH.deb     the package (packaging/nfpm.yaml)
#   dist/SHA256SUMS
#   dist/VERSION                        the version stamped
#
# The version is VERSION, else the nearest v* tag (1.2.3, or 1.2.3+4.gabc1234 four commits
# after it), else 0.0.0-dev.<commit time>+g<commit>; a .dirty suffix marks uncommitted
# changes. The commit and its time (UTC) are stamped too, and the commit time is
# SOURCE_DATE_EPOCH, so the same commit builds the same files. Needs Go and git; nfpm
# runs as a Go tool (go.mod), nothing else is fetched.
set -euo pipefail
cd "$(dirname "$0")/.."

deb=1
arches=()
for a in "$@"; do
  case "$a" in
    --no-deb) deb=0 ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    amd64|arm64) arches+=("$a") ;;
    *) echo "release.sh: unknown argument $a (architectures: amd64 arm64)" >&2; exit 2 ;;
  esac
done
[ ${#arches[@]} -gt 0 ] || arches=(amd64 arm64)

module=github.com/hookpoint/hookpoint

# What to stamp.
commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
if epoch=$(git log -1 --format=%ct 2>/dev/null); then :; else epoch=$(date +%s); fi
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$epoch}
date=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
if [ -n "${VERSION:-}" ]; then
  version=${VERSION#v}
elif described=$(git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null); then
  # v1.2.3 -> 1.2.3; v1.2.3-4-gabc1234-dirty -> 1.2.3+4.gabc1234.dirty (sorts after 1.2.3)
  version=${described#v}
  if [[ $version =~ ^([0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?)-([0-9]+)-(g[0-9a-f]+)(-dirty)?$ ]]; then
    version="${BASH_REMATCH[1]}+${BASH_REMATCH[3]}.${BASH_REMATCH[4]}${BASH_REMATCH[5]:+.dirty}"
  fi
  version=${version/-dirty/+dirty}
else
  version="0.0.0-dev.$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y%m%d%H%M%S)+g${commit:0:12}"
  if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
    version+=.dirty
  fi
fi
if ! [[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]*)?$ ]]; then
  echo "release.sh: version $version is not MAJOR.MINOR.PATCH[-PRE][+META]" >&2
  exit 2
fi

ldflags="-s -w -buildid="
ldflags+=" -X $module/internal/version.Version=$version"
ldflags+=" -X $module/internal/version.Commit=$commit"
ldflags+=" -X $module/internal/version.Date=$date"

mkdir -p dist
echo "$version" > dist/VERSION
built=()
echo "hookpoint $version ($commit, $date)"

for arch in "${arches[@]}"; do
  out=dist/hookpoint-linux-$arch
  CGO_ENABLED=0 GOOS=linux GOARCH=$arch go build -trimpath -buildvcs=false -ldflags "$ldflags" -o "$out" ./cmd/hookpoint
  if command -v file >/dev/null; then
    desc=$(file -b "$out")
    case "$desc" in
      *"statically linked"*stripped*) ;;
      *) echo "release.sh: $out is not a static, stripped executable: $desc" >&2; exit 1 ;;
    esac
    echo "$out: $desc"
  else
    echo "$out (file(1) not installed: static linking not checked)"
  fi
  built+=("${out#dist/}")
done

if [ "$deb" = 1 ]; then
  # Man pages and completions come from the command tree, so a binary that runs here
  # writes them for every architecture.
  work=dist/.pkg
  rm -rf "$work"
  mkdir -p "$work"
  CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags "$ldflags" -o "$work/hookpoint" ./cmd/hookpoint
  "$work/hookpoint" gen-docs "$work/docs" >/dev/null
  # Debian wants man pages compressed, without a name or time in the gzip header.
  touch -d "@$SOURCE_DATE_EPOCH" "$work"/docs/man1/*.1
  gzip -9n "$work"/docs/man1/*.1
  for arch in "${arches[@]}"; do
    rm -f dist/hookpoint_*_"$arch".deb
    HOOKPOINT_VERSION=$version HOOKPOINT_ARCH=$arch HOOKPOINT_BINARY=dist/hookpoint-linux-$arch \
      HOOKPOINT_DOCS=$work/docs \
      go tool nfpm package --config packaging/nfpm.yaml --packager deb --target dist/ >/dev/null
    pkg=$(cd dist && ls hookpoint_*_"$arch".deb)
    echo "dist/$pkg"
    built+=("$pkg")
  done
  rm -rf "$work"
fi

(cd dist && sha256sum "${built[@]}" > SHA256SUMS)
echo "dist/SHA256SUMS"
