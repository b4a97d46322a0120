#!/usr/bin/env bash
# Proves every install command of the README's "Install" section on this machine, from this
# repository's committed HEAD (uncommitted changes are not tested), each in its own empty
# directory, npm cache and global prefix, so nothing installed before can help:
#   1. tarball:     npm pack (in a fresh clone), then npm install -g ./exif-fix-<version>.tgz
#   2. git, local:  npm pkg set allowScripts[<git url>]=true; npm install <git url>; npx exif-fix
#   3. git, global: npm install -g "$(npm pack --silent <git url>)"
#   4. git, npx:    npx --yes <git url> --version
#   5. registry:    not published yet; reports what the registry says.
# Each install must print no npm warning, and the installed exif-fix must rotate a fixture.
# The README's https://github.com/exif-fix/exif-fix.git stands for this repository's HEAD here
# (git+file://). Needs git, npm 9+ and the network (the npm registry, for the dependencies).
# Usage: bash scripts/check-installs.sh      (run by .ci/run; about 5-10 minutes)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
sha="$(git -C "$repo" rev-parse HEAD)"
version="$(node -p "require('$repo/package.json').version")"
url="git+file://$repo#$sha"
work="$(mktemp -d "${TMPDIR:-/tmp}/exif-fix-installs-XXXXXX")"
trap 'rm -rf "$work"' EXIT
if [ -n "$(git -C "$repo" status --porcelain --untracked-files=no)" ]; then
  echo "check-installs: note: uncommitted changes are not tested; testing commit $sha" >&2
fi

failures=0
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1" >&2; failures=$((failures + 1)); }

# Runs an install command in $dir with its own cache; fails it on a non-zero exit or any npm
# warning in its output. $1: label; rest: the command.
install_step() {
  local label="$1"; shift
  local log="$work/$(echo "$label" | tr -c 'a-z0-9' '-').log"
  if ! (cd "$dir" && npm_config_cache="$work/cache-$label_id" "$@") >"$log" 2>&1; then
    fail "$label: \`$*\` exited non-zero"; sed 's/^/     /' "$log" >&2; return 1
  fi
  if grep -qi 'npm warn' "$log"; then
    fail "$label: npm printed a warning"; grep -i 'npm warn' "$log" | sed 's/^/     /' >&2; return 1
  fi
}

# Checks that `$@` is a working exif-fix: the version, and a sideways fixture rotated.
works() {
  local label="$1"; shift
  local out="$work/out-$label_id"
  if [ "$("$@" --version)" != "$version" ]; then fail "$label: \`$* --version\` is not $version"; return 1; fi
  if ! "$@" "$repo/fixtures/orientation/jpeg-420/jpeg-420_6.jpg" --out "$out" --quiet 2>"$work/run.log"; then
    fail "$label: the installed exif-fix failed on a fixture"; sed 's/^/     /' "$work/run.log" >&2; return 1
  fi
  [ -f "$out/jpeg-420_6.jpg" ] || { fail "$label: no output written"; return 1; }
  pass "$label"
}

# 1. From a tarball made by npm pack in a fresh clone.
label_id=tarball; dir="$work/clone"
git clone -q "$repo" "$dir" && git -C "$dir" checkout -q "$sha"
if install_step "npm ci in a fresh clone" npm ci --no-audit --no-fund \
  && install_step "npm pack" npm pack --silent; then
  tgz="$dir/exif-fix-$version.tgz"
  tar tzf "$tgz" > "$work/tarball.lst"
  if grep -q '\.map$' "$work/tarball.lst"; then fail "tarball: ships source maps"; fi
  for f in package/LICENSE package/README.md package/CHANGELOG.md package/dist/index.js package/bin/exif-fix.js; do
    grep -qx "$f" "$work/tarball.lst" || fail "tarball: $f missing"
  done
  tar xzf "$tgz" -O package/package.json > "$work/packed.json"
  if grep -q '"prepare"' "$work/packed.json"; then fail "tarball: package.json still has a prepare script"; fi
  dir="$work/t1"; mkdir -p "$dir"
  install_step "tarball: npm install -g ./exif-fix-$version.tgz" npm install -g --prefix "$work/prefix-tarball" --no-audit --no-fund "$tgz" \
    && works "tarball: npm install -g ./exif-fix-$version.tgz" "$work/prefix-tarball/bin/exif-fix"
fi

# 2. From git, into a project (the README approves the build step first, npm 11.16+).
label_id=git-local; dir="$work/project"; mkdir -p "$dir"
(cd "$dir" && npm init -y >/dev/null && npm pkg set "allowScripts[$url]=true" --json)
install_step "git, local: npm install <git url>" npm install --no-audit --no-fund "$url" \
  && works "git, local: npm install <git url>" "$dir/node_modules/.bin/exif-fix"

# 3. From git, global: npm packs the clone (building it), then installs the tarball.
label_id=git-global; dir="$work/g"; mkdir -p "$dir"
# As the README writes it: npm install -g "$(npm pack --silent <git url>)", in $dir.
global_install() { npm install -g --prefix "$work/prefix-git" --no-audit --no-fund "$(npm pack --silent "$url")"; }
install_step "git, global: npm install -g \"\$(npm pack --silent <git url>)\"" global_install \
  && works "git, global: npm install -g \"\$(npm pack --silent <git url>)\"" "$work/prefix-git/bin/exif-fix"

# 4. From git with npx (nothing installed in the project).
label_id=npx; dir="$work/npx"; mkdir -p "$dir"
works_npx() { (cd "$dir" && npm_config_cache="$work/cache-npx" npx --yes "$url" "$@"); }
if (cd "$dir" && npm_config_cache="$work/cache-npx" npx --yes "$url" --version) >"$work/npx.log" 2>&1 && ! grep -qi 'npm warn' "$work/npx.log"; then
  works "git, npx: npx --yes <git url>" works_npx
else
  fail "git, npx: npx --yes <git url> --version"; sed 's/^/     /' "$work/npx.log" >&2
fi

# 5. The registry: exif-fix is not published yet.
if npm view exif-fix name version >"$work/view.log" 2>&1; then
  echo "note registry: a package named exif-fix is on the registry ($(tr '\n' ' ' <"$work/view.log")); check that it is this project before documenting npm install -g exif-fix"
else
  echo "note registry: exif-fix is not published (npm view: $(grep -m1 -o 'E404\|404[^\n]*' "$work/view.log" || echo 'no answer')); the README says so"
fi

if [ "$failures" -gt 0 ]; then
  echo "check-installs: $failures failed" >&2
  exit 1
fi
echo "check-installs: every README install works, without warnings"
