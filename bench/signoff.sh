#!/usr/bin/env bash
# Sign-off on a 10,000-case pack (the sample repeated 250 times, bench/rules_pack.py): the time to
# sign (pack opened, rules checked, plan made, every file hashed, record sealed and SSH-signed)
# and to verify (journal replayed, every file hashed again, signature checked), side by side with
# what an auditor would otherwise run: `sha256sum` over the same files (GNU coreutils, two
# processes through xargs -P2, as fast as it goes here) and `ssh-keygen -Y verify`. Best of 3.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
LB=$PWD/target/release/lightbox
BIG=${TMPDIR:-/tmp}/lightbox-rules-10k
[ -d "$BIG" ] || python3 bench/rules_pack.py samples/chest-phantom 250 "$BIG"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"; rm -rf "$BIG/reviews/bench"' EXIT
ssh-keygen -q -t ed25519 -N '' -C bench -f "$WORK/key"
printf 'bench %s\n' "$(cat "$WORK/key.pub")" > "$WORK/allowed"

best() { sort -n | head -1; }
t() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s.%N); echo "$e - $s" | bc; }

files=$(find "$BIG" -type f ! -path '*/reviews/*' ! -path '*/.lightbox/*' | wc -l)
echo "pack: $BIG ($files files, $(du -sh --apparent-size "$BIG" | cut -f1))"
sign=()
for i in 1 2 3; do
    rm -rf "$BIG/reviews/bench"
    sign+=("$(t sh -c "printf 'sign reject override bench\n' | '$LB' review '$BIG' --release bench --run candidate --reviewer bench --batch --ssh-key '$WORK/key'")")
done
REC=$BIG/reviews/bench/bench.record.json
"$LB" verify "$REC" --allowed-signers "$WORK/allowed" | tail -2
verify=(); for i in 1 2 3; do verify+=("$(t "$LB" verify "$REC" --allowed-signers "$WORK/allowed")"); done
sha=(); for i in 1 2 3; do
    sha+=("$(t sh -c "find '$BIG' -type f ! -path '*/reviews/*' -print0 | xargs -0 -n 2000 -P 2 sha256sum")")
done
ssh=(); for i in 1 2 3; do
    ssh+=("$(t sh -c "ssh-keygen -Y verify -n lightbox-signoff -I bench -f '$WORK/allowed' -s '$REC.sig' < '$REC'")")
done
S=$(printf '%s\n' "${sign[@]}" | best); V=$(printf '%s\n' "${verify[@]}" | best)
H=$(printf '%s\n' "${sha[@]}" | best); K=$(printf '%s\n' "${ssh[@]}" | best)
printf '%-58s %8.2f s\n' "lightbox review --batch: sign (rules, plan, hashes, seal)" "$S"
printf '%-58s %8.2f s\n' "lightbox verify --allowed-signers" "$V"
printf '%-58s %8.2f s\n' "sha256sum over the same files (xargs -P2)" "$H"
printf '%-58s %8.3f s\n' "ssh-keygen -Y verify of the record" "$K"
python3 -c "print(f'ratio: lightbox verify takes {($V)/(($H)+($K)):.2f}x the time of sha256sum + ssh-keygen, and checks the journal, the policy inputs and every file')"
