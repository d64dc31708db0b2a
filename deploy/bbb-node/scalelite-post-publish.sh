#!/usr/bin/env bash
# The shell twin of scalelite-post-publish.rb (same options, settings and behaviour), for nodes where a Ruby
# hook is not wanted, or to transfer a recording by hand: scalelite-post-publish.sh -m <recordID> [-f <format>].
# The archive is written under a dot-name in the spool and renamed when complete, so it is never read half-written.
set -euo pipefail

if [ -r /etc/default/scalelite-post-publish ]; then
  # Only the three known keys are taken from the file, and the environment wins over it.
  while IFS='=' read -r key value; do
    value=${value//\"/}
    case "$key" in
      SCALELITE_SPOOL_DIR|BBB_PUBLISHED_DIR|BBB_UNPUBLISHED_DIR) [ -n "${!key:-}" ] || printf -v "$key" '%s' "$value" ;;
    esac
  done < /etc/default/scalelite-post-publish
fi
spool=${SCALELITE_SPOOL_DIR:-/mnt/scalelite-recordings/var/bigbluebutton/spool}
published=${BBB_PUBLISHED_DIR:-/var/bigbluebutton/published}
unpublished=${BBB_UNPUBLISHED_DIR:-/var/bigbluebutton/unpublished}
# tar resolves each -C from the previous one, so the roots must be absolute.
spool=$(realpath -m "$spool") published=$(realpath -m "$published") unpublished=$(realpath -m "$unpublished")

record_id='' format=''
while [ $# -gt 0 ]; do
  case "$1" in
    -m|--meeting-id) record_id=${2:-}; shift 2 ;;
    -f|--format) format=${2:-}; shift 2 ;;
    *) echo "scalelite-post-publish: unknown option $1" >&2; exit 2 ;;
  esac
done
safe='^[A-Za-z0-9][A-Za-z0-9_.-]*$'
[[ $record_id =~ $safe ]] || { echo "scalelite-post-publish: -m <recordID> is required" >&2; exit 2; }
[[ -z $format || $format =~ $safe ]] || { echo "scalelite-post-publish: invalid format '$format'" >&2; exit 2; }

if [ -n "$format" ]; then
  formats=("$format")
else
  mapfile -t formats < <(for d in "$published"/*/"$record_id" "$unpublished"/*/"$record_id"; do [ -d "$d" ] && basename "$(dirname "$d")"; done | sort -u)
fi

members=()
for f in "${formats[@]}"; do
  for root in "$published" "$unpublished"; do
    if [ -d "$root/$f/$record_id" ]; then members+=(-C "$root" "$f/$record_id"); break; fi
  done
done
[ ${#members[@]} -gt 0 ] || { echo "scalelite-post-publish: nothing published for $record_id" >&2; exit 1; }

name="$record_id.tar"
[ -z "$format" ] || name="$record_id.$format.tar"
temporary="$spool/.$name.$$.tmp"
trap 'rm -f "$temporary"' EXIT
tar -cf "$temporary" "${members[@]}"
sync "$temporary" 2>/dev/null || true
mv -f "$temporary" "$spool/$name"
trap - EXIT
echo "scalelite-post-publish: $record_id -> $spool/$name"
