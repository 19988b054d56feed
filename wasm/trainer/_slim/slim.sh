#!/usr/bin/env bash
# slim.sh DIR: the browser trainer's copies of gorgonia and tensor, in DIR.
#
# Go's linker keeps every exported method of every type in a binary once
# any code it keeps looks methods up by name through reflection. In
# trainer.wasm two upstream files do: gorgonia's DOT node label
# (text/template) and tensor's protobuf serialization (gogo protobuf), and
# they double its size (30 MB → 14 MB, 4.4 → 2.4 MB brotli). The module
# cache cannot be overlaid, so this copies both modules' sources from it,
# replaces those two files with the ones beside this script (the label
# written with fmt, tested against upstream's template; the file without
# PBEncode/PBDecode), and writes DIR/trainer.mod and DIR/trainer.sum: go.mod
# and go.sum with the two replaced. `go build -modfile DIR/trainer.mod`
# builds with them. DIR is relative to the repository root.
#
# Each replaced file is pinned to the upstream version it was derived from:
# when go.mod moves either module, this stops and says which file to
# derive again.
set -euo pipefail
cd "$(dirname "$0")/../../.."
dir=${1:?usage: slim.sh DIR}
here=wasm/trainer/_slim
# module  version  file  upstream sha256
pins="gorgonia.org/gorgonia v0.9.18 templates.go 910d20b71f9741d9307918a866865d9f89906628b26c1599d87d68874cb9682c
gorgonia.org/tensor v0.9.23 dense_io.go 5115a15ae59b601573111366005ba3b12477d303f633251cb7876d12757cda3e"

mkdir -p "$(dirname "$dir")"
tmp=$(mktemp -d "$(dirname "$dir")/.slim.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cp go.mod "$tmp/trainer.mod"
cp go.sum "$tmp/trainer.sum"
while read -r mod version file sum; do
	name=${mod##*/}
	read -r have src < <(go list -m -f '{{.Version}} {{.Dir}}' "$mod")
	if [ "$have" != "$version" ] || [ -z "$src" ]; then
		echo "slim.sh: go.mod has $mod $have, $here/$name/$file was derived from $version: derive it again from the new $file" >&2
		exit 1
	fi
	if ! echo "$sum  $src/$file" | sha256sum --check --status; then
		echo "slim.sh: $src/$file is not the file $here/$name/$file was derived from" >&2
		exit 1
	fi
	mkdir -p "$tmp/$name"
	(cd "$src" && find . \( -name '*.go' ! -name '*_test.go' -o -name '*.s' -o -name '*.h' -o -name '*.c' -o -name go.mod \) \
		! -path '*/testdata/*' | tar -cf - -T -) | tar -xf - -C "$tmp/$name"
	chmod -R u+w "$tmp/$name"
	cp "$here/$name"/*.go "$tmp/$name/"
	printf '\nreplace %s => ./%s/%s\n' "$mod" "$dir" "$name" >> "$tmp/trainer.mod"
done <<< "$pins"
rm -rf "$dir"
mv "$tmp" "$dir"
trap - EXIT
