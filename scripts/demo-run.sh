#!/usr/bin/env bash
# The demo: a local server, three offices (a Dinas, a UPTD PPA, a kelurahan post), a device
# enrolled in each; two offices record cases offline, everyone syncs, and the merged result
# shows the same on every office. All names are generated; nothing leaves this machine.
#   scripts/demo-run.sh BUILD_DIR
set -euo pipefail
umask 077  # the server log and every demo file: readable by their owner only
build=${1:-build}
teduh="$build/client/teduh"
teduhd="$build/server/teduhd"
work=$(mktemp -d -t teduh-demo-XXXXXX)
server_pid=""
cleanup() {
  # Ctrl+C reaches the server too: its exit status (130) must not stop the cleanup (set -e).
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# Demo passphrases (strong enough for the passphrase check) and the cheap Argon2id cost,
# so the demo runs in seconds: TEDUH_TEST_STORES=1 says these stores are throwaway ones.
export TEDUH_KDF=interactive TEDUH_TEST_STORES=1
export TEDUH_SERVER_PASSPHRASE="demo-lampion-kuning-berputar-server"
export TEDUH_PASSPHRASE="demo-payung-hijau-menari-kantor"
# The administrator's own passphrase and key file, kept outside the server's data folder.
export TEDUH_ADMIN_PASSPHRASE="demo-kancil-cerdik-menyeberang-sungai"
admin_key="$work/administrator/admin.key"
mkdir -p "$work/administrator"
say() { printf '\n== %s\n' "$*"; }

say "The administrator creates the server store, the administrator key (outside the data folder) and three offices"
"$teduhd" init --data "$work/server" --admin-key "$admin_key" | tee "$work/init.out"
server_key=$(tail -n 1 "$work/init.out")
"$teduhd" office add --data "$work/server" --code DEMO-DP3A --name "Dinas PPPA Kota Demo" --kind dinas --region 3275
"$teduhd" office add --data "$work/server" --code DEMO-UPTD --name "UPTD PPA Kota Demo" --kind uptd_ppa --region 3275 --parent DEMO-DP3A
"$teduhd" office add --data "$work/server" --code DEMO-KEL1 --name "Pos Kelurahan Demo Satu" --kind kelurahan --region 3275 --parent DEMO-DP3A
"$teduhd" office add --data "$work/server" --code DEMO-PUSAT --name "Kantor Pusat Demo" --kind pusat --region 32
code_dinas=$("$teduhd" enroll --data "$work/server" --office DEMO-DP3A --user pendamping-dinas --role pendamping | tail -n 1)
code_uptd=$("$teduhd" enroll --data "$work/server" --office DEMO-UPTD --user pendamping-uptd --role pendamping --shelter | tail -n 1)
code_kel=$("$teduhd" enroll --data "$work/server" --office DEMO-KEL1 --user operator-kelurahan --role operator | tail -n 1)
code_pusat=$("$teduhd" enroll --data "$work/server" --office DEMO-PUSAT --user analis-pusat --role analis | tail -n 1)

say "The server starts on 127.0.0.1 (a free port)"
"$teduhd" serve --data "$work/server" --listen 127.0.0.1:0 >"$work/serve.out" 2>"$work/serve.log" &
server_pid=$!
for _ in $(seq 50); do grep -q listening "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
address=$(sed -n 's/^teduhd listening on //p' "$work/serve.out")
echo "server at $address"

say "Each office sets up its laptop from its enrollment code (no network needed)"
"$teduh" init --store "$work/dinas.db" --server "$address" --server-key "$server_key" --enroll "$code_dinas"
"$teduh" init --store "$work/uptd.db" --server "$address" --server-key "$server_key" --enroll "$code_uptd" | tee "$work/uptd.init"
uptd_device=$(tail -n 1 "$work/uptd.init")
"$teduh" init --store "$work/kel.db" --server "$address" --server-key "$server_key" --enroll "$code_kel"
"$teduh" init --store "$work/pusat.db" --server "$address" --server-key "$server_key" --enroll "$code_pusat"

say "Offline: the kelurahan post takes a walk-in complaint"
case_kel=$("$teduh" case new --store "$work/kel.db" --channel datang_langsung --forms psikis,penelantaran \
  --place rumah_tangga --victim-name "Warga Demo Satu" --victim-sex P --victim-birth 2012-03-04 | tail -n 1)
"$teduh" person add --store "$work/kel.db" --case "$case_kel" --role terlapor --name "Terlapor Demo" --sex L --relationship orang_tua >/dev/null

say "The guardian is the alleged perpetrator, so a substitute consents: the post refers the case on"
"$teduh" refer --store "$work/kel.db" --case "$case_kel" --to DEMO-UPTD --reason "Asesmen dan pendampingan" \
  --consent yes --consent-by pengganti | tail -n 1 >"$work/referral_uptd"
"$teduh" refer --store "$work/kel.db" --case "$case_kel" --to DEMO-DP3A --reason "Koordinasi layanan" \
  --consent yes --consent-by pengganti >/dev/null

say "Offline: the Dinas records a phone complaint and a counselling session"
case_dinas=$("$teduh" case new --store "$work/dinas.db" --channel telepon --forms fisik \
  --place tempat_kerja --victim-name "Warga Demo Dua" --victim-sex P --victim-age 31 | tail -n 1)
"$teduh" service add --store "$work/dinas.db" --case "$case_dinas" --kind konseling --notes "Sesi pertama" >/dev/null
echo "... and, not knowing the post has her, the same girl again, her name spelled another way"
case_dinas_again=$("$teduh" case new --store "$work/dinas.db" --channel telepon --forms psikis \
  --victim-name "Warga Demmo Satu" --victim-sex P --victim-birth 2012-03-04 | tail -n 1)

say "Offline: the kelurahan post enters a complaint it received four days ago, still unanswered"
"$teduh" case new --store "$work/kel.db" --channel telepon --forms psikis \
  --received-at "$(date -u -d '4 days ago' +%Y-%m-%dT%H:%M:%SZ)" --victim-name "Warga Demo Tiga" --victim-sex L --victim-age 9 >/dev/null

say "Everyone syncs"
for office in kel dinas uptd kel dinas; do
  printf '%-6s ' "$office"; "$teduh" sync --store "$work/$office.db"
done

say "The UPTD PPA accepts the referral"
"$teduh" referral list --store "$work/uptd.db"
"$teduh" referral accept --store "$work/uptd.db" "$(cat "$work/referral_uptd")"

say "The UPTD PPA and the Dinas both change the kelurahan case while apart"
"$teduh" case set --store "$work/uptd.db" "$case_kel" status=asesmen risk_level=tinggi
"$teduh" case set --store "$work/dinas.db" "$case_kel" risk_level=sedang assigned_worker=pendamping-dinas
for office in uptd dinas uptd kel; do
  printf '%-6s ' "$office"; "$teduh" sync --store "$work/$office.db"
done

say "What each office holds: its own cases and those referred to it with consent (victims by code)"
for office in kel dinas uptd; do
  echo "-- $office"; "$teduh" case list --store "$work/$office.db"
done

say "The one disagreement is kept with both values, for a person to settle"
"$teduh" conflicts --store "$work/dinas.db"

say "Every office holds the same merged case"
"$teduh" case show --store "$work/kel.db" "$case_kel" --json >"$work/kel.json"
"$teduh" case show --store "$work/dinas.db" "$case_kel" --json >"$work/dinas.json"
"$teduh" case show --store "$work/uptd.db" "$case_kel" --json >"$work/uptd.json"
if cmp -s "$work/kel.json" "$work/dinas.json" && cmp -s "$work/dinas.json" "$work/uptd.json"; then
  echo "identical on all three offices"
else
  echo "the offices differ: this is a bug" >&2
  exit 1
fi
"$teduh" case show --store "$work/uptd.db" "$case_kel"

say "The UPTD PPA's shelter device has clearance but no shelter key until the administrator clears it"
"$teduhd" device list --data "$work/server"
"$teduhd" device clear --data "$work/server" --admin-key "$admin_key" "$uptd_device"
printf '%-6s ' uptd; "$teduh" sync --store "$work/uptd.db"
"$teduh" shelter add --store "$work/uptd.db" --code-name RA-DEMO --name "Rumah Demo Melati" --address "Jalan Demo 7" >/dev/null
"$teduh" shelter place --store "$work/uptd.db" --case "$case_kel" --shelter RA-DEMO >/dev/null
printf '%-6s ' uptd; "$teduh" sync --store "$work/uptd.db"
"$teduh" shelter list --store "$work/uptd.db"
echo "the server's store, dumped: $("$teduhd" debug dump --data "$work/server" | grep -c 'Jalan Demo') line(s) with the address"
echo "the server's data folder holds no administrator key: $(ls "$work/server" | tr '\n' ' ')"

say "What is due, and the office's counts (no names; small cells shown as <5)"
"$teduh" due --store "$work/dinas.db"
echo
"$teduh" report --store "$work/dinas.db"

say "The central office receives de-identified data only (no names, NIK or shelters) and spots one victim in two offices"
"$teduh" sync --store "$work/pusat.db"
"$teduh" duplicates --store "$work/pusat.db"

say "The Dinas holds both records (one was referred to it) and merges them; everyone syncs"
"$teduh" case merge --store "$work/dinas.db" "$case_kel" "$case_dinas_again"
for office in dinas kel uptd pusat; do
  printf '%-6s ' "$office"; "$teduh" sync --store "$work/$office.db"
done
"$teduh" duplicates --store "$work/pusat.db"

say "The central office's report over every office (de-identified; cells under 5 shown as <5)"
"$teduh" report --store "$work/pusat.db"

# TEDUH_DEMO_APP=1: the office app (client/APP.md) on the Dinas's laptop, with the data above
# (TEDUH_DEMO_APP_ARGS=--no-browser: print its address instead of opening the browser).
if [ "${TEDUH_DEMO_APP:-0}" = 1 ]; then
  say "The office app on the Dinas's store: in the page, type the passphrase $TEDUH_PASSPHRASE; Ctrl+C ends the demo"
  "$teduh" app --store "$work/dinas.db" ${TEDUH_DEMO_APP_ARGS:-} || true
fi
say "Demo done"
