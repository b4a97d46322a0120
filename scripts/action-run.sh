#!/usr/bin/env bash
# The body of the composite GitHub Action (action.yml): runs exif-fix on the workflow's
# checkout as the action's inputs say. It runs the same outside GitHub, which is how
# test/system/recipes.test.ts runs it.
#
# Environment (set by action.yml from its inputs):
#   INPUT_PATHS               files, directories or glob patterns, one per line (default: .)
#   INPUT_MODE                check (fail on a sideways image) or fix (rewrite in place)
#   INPUT_CHANGED_FILES_ONLY  true: only images added or changed since INPUT_BASE_REF
#   INPUT_BASE_REF            the ref to compare with (default: origin/$GITHUB_BASE_REF, the
#                             pull request's base branch)
#   INPUT_REPORTER            github (annotations on the pull request) or default
#   EXIF_FIX                  the exif-fix command (default: node <this repository>/bin/exif-fix.js)
# Exit status: exif-fix's (0 all upright or fixed, 1 sideways images in check mode or a failed
# file, 2 usage). No image to look at (an empty change list, a pattern that matches nothing) is 0.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
read -r -a exif_fix <<< "${EXIF_FIX:-node $here/bin/exif-fix.js}"

mode="${INPUT_MODE:-check}"
case "$mode" in
  check) flags=(--check) ;;
  fix) flags=(--in-place) ;;
  *) echo "exif-fix action: input mode must be check or fix, not \`$mode\`" >&2; exit 2 ;;
esac
reporter="${INPUT_REPORTER:-github}"
case "$reporter" in
  github|default) flags+=(--reporter "$reporter") ;;
  *) echo "exif-fix action: input reporter must be github or default, not \`$reporter\`" >&2; exit 2 ;;
esac

# One path per line; blank lines and surrounding spaces are ignored.
paths=()
while IFS= read -r line; do
  line="${line#"${line%%[![:space:]]*}"}"
  line="${line%"${line##*[![:space:]]}"}"
  [ -n "$line" ] && paths+=("$line")
done <<< "${INPUT_PATHS:-.}"
[ "${#paths[@]}" -gt 0 ] || paths=(.)

case "${INPUT_CHANGED_FILES_ONLY:-false}" in
  true)
    base="${INPUT_BASE_REF:-}"
    if [ -z "$base" ] && [ -n "${GITHUB_BASE_REF:-}" ]; then base="origin/$GITHUB_BASE_REF"; fi
    if [ -z "$base" ]; then
      echo "exif-fix action: changed-files-only needs a base: run on pull_request, or set the base-ref input" >&2
      exit 2
    fi
    list="$(mktemp)"
    trap 'rm -f "$list"' EXIT
    # Added, copied, modified or renamed files under the given paths (deleted ones are gone),
    # kept when their extension is a supported image format, in any letter case.
    git diff -z --name-only --diff-filter=ACMR "$base...HEAD" -- "${paths[@]}" \
      | { grep -ziE '\.(jpe?g|png|webp|tiff?|hei[cf]|avif)$' || true; } > "$list"
    if [ ! -s "$list" ]; then
      echo "exif-fix: no image added or changed since $base"
      exit 0
    fi
    status=0
    "${exif_fix[@]}" "${flags[@]}" --files-from "$list" -0 || status=$?
    exit "$status"
    ;;
  false)
    exec "${exif_fix[@]}" "${flags[@]}" --no-error-on-unmatched-pattern -- "${paths[@]}"
    ;;
  *)
    echo "exif-fix action: input changed-files-only must be true or false, not \`${INPUT_CHANGED_FILES_ONLY}\`" >&2
    exit 2
    ;;
esac
