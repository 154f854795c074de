#!/usr/bin/env bash
# Installs grpcurl (github.com/fullstorydev/grpcurl, a gRPC client nobody here wrote) once,
# from the Go module proxy, into a cache folder outside the repo, and prints its path.
# Later runs find it there and print the path at once.
#
#   GRPCURL_VERSION       the module version (default below; `latest` works too)
#   SWITCHBOARD_TOOLS_DIR where tools are cached (default /var/cache/switchboard/bin when
#                         writable, else ${XDG_CACHE_HOME:-~/.cache}/switchboard/bin)
#
# Exits non-zero, saying why on stderr, when Go is missing or the install fails.
set -euo pipefail

GRPCURL_MODULE=github.com/fullstorydev/grpcurl/cmd/grpcurl
GRPCURL_VERSION="${GRPCURL_VERSION:-v1.9.3}"

tools_dir() {
  if [[ -n "${SWITCHBOARD_TOOLS_DIR:-}" ]]; then echo "$SWITCHBOARD_TOOLS_DIR"; return; fi
  local system=/var/cache/switchboard/bin
  if mkdir -p "$system" 2>/dev/null && [[ -w "$system" ]]; then echo "$system"; return; fi
  echo "${XDG_CACHE_HOME:-$HOME/.cache}/switchboard/bin"
}

dir="$(tools_dir)/grpcurl-${GRPCURL_VERSION}"
bin="$dir/grpcurl"
if [[ -x "$bin" ]]; then echo "$bin"; exit 0; fi

if ! command -v go >/dev/null 2>&1; then
  echo "grpcurl.sh: Go is not installed (needed to build grpcurl from the Go module proxy)" >&2
  exit 1
fi
mkdir -p "$dir"
# Build into a private folder, then move into place: a half-written binary is never found.
staging="$(mktemp -d "$dir/.install.XXXXXX")"
trap 'rm -rf "$staging"' EXIT
echo "grpcurl.sh: installing $GRPCURL_MODULE@$GRPCURL_VERSION into $dir" >&2
GOBIN="$staging" go install "$GRPCURL_MODULE@$GRPCURL_VERSION" >&2
mv -f "$staging/grpcurl" "$bin"
echo "$bin"
