#!/usr/bin/env bash
# Copy the browser libraries the web app needs from node_modules into
# src/strengthmap/web/static/vendor/, each with its licence. The copies are committed, so the app
# runs with no internet and no npm at run time. Re-run after changing package.json:
#   npm ci && bash scripts/vendor_static.sh
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules/leaflet ] || npm ci --no-audit --no-fund
out=src/strengthmap/web/static/vendor
rm -rf "$out"
mkdir -p "$out/leaflet/images" "$out/axe-core"

ver() { node -p "require('./node_modules/$1/package.json').version"; }

# Leaflet (BSD-2-Clause): the map
cp node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css "$out/leaflet/"
cp node_modules/leaflet/dist/images/*.png "$out/leaflet/images/"
cp node_modules/leaflet/LICENSE "$out/leaflet/LICENSE"
# axe-core (MPL-2.0): accessibility checks, injected only by the browser tests
cp node_modules/axe-core/axe.min.js "$out/axe-core/"
cp node_modules/axe-core/LICENSE "$out/axe-core/LICENSE"
cp node_modules/axe-core/LICENSE-3RD-PARTY.txt "$out/axe-core/"

cat > "$out/VERSIONS.txt" <<TXT
Vendored by scripts/vendor_static.sh from the npm registry (see package-lock.json).
leaflet $(ver leaflet) BSD-2-Clause  leaflet/LICENSE
axe-core $(ver axe-core) MPL-2.0  axe-core/LICENSE
TXT
cat "$out/VERSIONS.txt"
