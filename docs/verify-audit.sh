#!/bin/sh
# Check a csrules audit log without csrules (or Python): recompute every event's hash
# over its RFC 8785 (JCS) form, check the chain, and check it holds the head your
# scheduler logged. Needs jq (1.6 or later) and sha256sum.
#   csrules audit export --output audit.jsonl
#   sh verify-audit.sh audit.jsonl [HEAD_HASH]
set -eu
log="$1"; want="${2:-}"
jq -r '
  # an RFC 8785 number: the shortest digits, written as ECMAScript writes them
  def num: tostring
    | capture("^(?<sg>-?)(?<i>[0-9]+)(\\.(?<f>[0-9]+))?((e|E)(?<e>[-+]?[0-9]+))?$") as $m
    | ($m.i + ($m.f // "")) as $raw | ($raw | sub("^0+"; "")) as $lead
    | ($lead | sub("0+$"; "")) as $d | ($d | length) as $k
    | (($m.e // "0" | tonumber) + ($m.i | length) - ($raw | length) + ($lead | length)) as $n
    | if $k == 0 then "0" else $m.sg + (
        if $k <= $n and $n <= 21 then $d + ("0" * ($n - $k))
        elif 0 < $n and $n <= 21 then $d[0:$n] + "." + $d[$n:]
        elif -6 < $n and $n <= 0 then "0." + ("0" * (0 - $n)) + $d
        else $d[0:1] + (if $k > 1 then "." + $d[1:] else "" end) + "e"
          + (if $n > 0 then "+" else "-" end) + (($n - 1) | fabs | tostring) end) end;
  # RFC 8785: keys sorted, no spaces, strings as JSON writes them
  def canon: if type == "object"
      then "{" + (to_entries | sort_by(.key)
        | map((.key | tojson) + ":" + (.value | canon)) | join(",")) + "}"
    elif type == "array" then "[" + (map(canon) | join(",")) + "]"
    elif type == "number" then num else tojson end;
  # what was hashed: every field but the hash; the clocks only when stamped
  [.hash, .prev_hash,
   ({seq, at, kind, run_id, case, account, rule, rule_hash, data, prev_hash}
    + (if .recorded_at != null then {as_of, recorded_at} else {} end)
    + (if .canon == "jcs" then {canon} else {} end) | canon)] | join("\t")
' "$log" | {
  last=""; n=0; found=""
  while IFS="$(printf '\t')" read -r hash prev body; do
    n=$((n + 1))
    if [ -n "$last" ] && [ "$prev" != "$last" ]; then
      echo "event $n of the export does not follow the one before it"; exit 1
    fi
    got=$(printf '%s%s' "$prev" "$body" | sha256sum | cut -d' ' -f1)
    if [ "$got" != "$hash" ]; then
      echo "event $n of the export was altered: its hash does not match its contents"; exit 1
    fi
    if [ "$hash" = "$want" ]; then found=yes; fi
    last="$hash"
  done
  if [ -n "$want" ] && [ -z "$found" ]; then
    echo "the head $want is not in the log: events were cut or rewritten after it"; exit 1
  fi
  echo "chain intact: $n events, last $last"
}
