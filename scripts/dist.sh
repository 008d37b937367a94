#!/usr/bin/env bash
# Release archives (`make dist`): abkit for Windows, Linux and macOS on amd64 and arm64, each with
# its version stamped in (-ldflags -X), the README, the man pages and the shell completions, plus a
# SHA-256 sums file. Every binary is checked to carry the stamped version before it is packed.
#
#   VERSION   release version (default: git describe --tags --always --dirty)
#   DIST_DIR  output folder (default: dist)
#   TARGETS   GOOS/GOARCH pairs (default: all six); CI builds windows/amd64 only, as a fast check
set -euo pipefail
cd "$(dirname "$0")/.."

module=github.com/abkit/abkit
version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
# The commit's time, not the clock: the same commit gives the same binaries and pages.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
build_date=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
out=${DIST_DIR:-dist}
targets=${TARGETS:-windows/amd64 windows/arm64 linux/amd64 linux/arm64 darwin/amd64 darwin/arm64}

ldflags="-s -w -X $module/internal/cli.version=$version -X $module/internal/cli.commit=$commit -X $module/internal/cli.buildDate=$build_date"

if ! command -v zip >/dev/null; then # Windows archives are .zip
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq zip >/dev/null
  else
    echo "dist: zip is needed for the Windows archives" >&2; exit 1
  fi
fi

rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/abkit-dist.XXXXXX")
trap 'rm -rf "$work"' EXIT

go run ./internal/cli/gendocs -man "$work/share/man" -completions "$work/share/completions"

for target in $targets; do
  goos=${target%/*} goarch=${target#*/}
  name="abkit_${version}_${goos}_${goarch}"
  stage="$work/$name"
  mkdir -p "$stage"
  exe=abkit
  [ "$goos" = windows ] && exe=abkit.exe
  echo "== $name"
  CGO_ENABLED=0 GOOS=$goos GOARCH=$goarch go build -trimpath -ldflags "$ldflags" -o "$stage/$exe" ./cmd/abkit
  # The binary says what it is: built for the target, with the version, commit and date stamped
  # in (a binary for another platform cannot run here, so look for the strings).
  info=$(go version -m "$stage/$exe")
  for want in "GOOS=$goos" "GOARCH=$goarch"; do
    grep -q -- "$want" <<<"$info" || { echo "dist: $stage/$exe lacks $want" >&2; exit 1; }
  done
  for want in "$version" "$commit" "$build_date"; do
    LC_ALL=C grep -a -q -F -- "$want" "$stage/$exe" || { echo "dist: $stage/$exe lacks the stamp $want" >&2; exit 1; }
  done
  if [ "$goos" = "$(go env GOHOSTOS)" ] && [ "$goarch" = "$(go env GOHOSTARCH)" ]; then
    "$stage/$exe" --version | grep -q -- "abkit $version (commit $commit, built $build_date" ||
      { echo "dist: $exe --version does not say $version" >&2; exit 1; }
  fi
  cp README.md "$stage/"
  cp -r "$work/share/man" "$work/share/completions" "$stage/"
  if [ "$goos" = windows ]; then
    (cd "$work" && zip -qr -X "$out/$name.zip" "$name")
  else
    tar -C "$work" --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" -czf "$out/$name.tar.gz" "$name"
  fi
done

(cd "$out" && sha256sum -- *.zip *.tar.gz 2>/dev/null > "abkit_${version}_SHA256SUMS" || true)
(cd "$out" && sha256sum -c --quiet "abkit_${version}_SHA256SUMS")
echo "dist: $(ls "$out" | wc -l) files in $out (version $version)"
