#!/usr/bin/env bash
# slim.sh DIR: the browser binaries' copies of go-app, gorgonia, tensor and
# ebiten, in DIR.
#
# The page's binary: go-app builds its server side (http.go, net/http) into
# the browser's binary too, and net/http's initialisation keeps net/http,
# crypto/tls and crypto/x509 in it (app.wasm 9.5 → 7.9 MB); the slim copy
# builds them for the server only.
#
# Go's linker keeps every exported method of every type in a binary once
# any code it keeps looks methods up by name through reflection. Three
# upstream files do, and nothing of ours needs what they do that way:
# gorgonia's DOT node label (text/template) and tensor's protobuf
# serialization (gogo protobuf) double trainer.wasm (30.0 → 14.4 MB, 4.4 →
# 2.4 MB brotli); ebiten's built-in shader source (text/template) adds a
# third to viz.wasm (9.7 → 12.8 MB). The module cache cannot be overlaid,
# so this copies the four modules' sources from it, edits those files with
# the sed scripts beside this script (FILE.sed edits upstream's FILE), adds
# the Go files beside it (*_slim.go: the label and the shader written in Go
# instead of a template, each tested against upstream's template kept in a
# *_slim_test.go), and writes DIR/wasm.mod and DIR/wasm.sum: go.mod and
# go.sum with the four modules
# replaced. `go build -modfile DIR/wasm.mod` builds with them. DIR is
# relative to the repository root.
#
# Each edited file is pinned to the upstream version and checksum its sed
# script was written for: when go.mod moves a module, this stops and says
# which script to check again.
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${1:?usage: slim.sh DIR}
case $dir in
out/?*) ;;
*) echo "slim.sh: DIR must be under out/ (it is replaced whole): $dir" >&2; exit 1 ;;
esac
here=wasm/_slim
# copy (under $here)  module  version  file in the module (edited by $here/copy/file.sed)  upstream sha256
pins="gorgonia gorgonia.org/gorgonia v0.9.18 templates.go 910d20b71f9741d9307918a866865d9f89906628b26c1599d87d68874cb9682c
tensor gorgonia.org/tensor v0.9.23 dense_io.go 5115a15ae59b601573111366005ba3b12477d303f633251cb7876d12757cda3e
ebiten github.com/hajimehoshi/ebiten/v2 v2.8.8 internal/builtinshader/shader.go 932a4a04d35a2bafa2272c9089f963ba5f189d855931af8fc049ead7360f6ebe
goapp github.com/maxence-charriere/go-app/v10 v10.1.11 pkg/app/http.go 0601189a9f611378e9b24ab4bdf42780a03cbf95c1bbebd4171b523ddbe9a32d
goapp github.com/maxence-charriere/go-app/v10 v10.1.11 pkg/app/resource.go 6b52ab4ec2f4171d403384bffe159e9ec22699933e768ef5868f2851a1b84baa
goapp github.com/maxence-charriere/go-app/v10 v10.1.11 pkg/app/wasm.go 10117b07fb7147cdfcd97d1e07cd010da30914e2a622b73d0242b5d9019796f8"

# Each sed script edits an upstream file, so each needs its pin; the other
# files beside this script are ours and must not replace upstream's.
for f in $(cd "$here" && find . -mindepth 2 -type f | sed 's|^\./||'); do
	name=${f%%/*}
	case $f in
	*.sed)
		file=${f#*/}
		if ! grep -q "^$name [^ ]* [^ ]* ${file%.sed} " <<< "$pins"; then
			echo "slim.sh: $here/$f edits an upstream file but has no pin here" >&2
			exit 1
		fi
		;;
	*_slim.go | *_slim_test.go) ;;
	*)
		echo "slim.sh: $here/$f: only FILE.sed, *_slim.go and *_slim_test.go belong here" >&2
		exit 1
		;;
	esac
done

mkdir -p "$(dirname "$dir")"
tmp=$(mktemp -d "$(dirname "$dir")/.slim.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cp go.mod "$tmp/wasm.mod"
cp go.sum "$tmp/wasm.sum"
while read -r name mod version file sum; do
	line=$(go list -m -f '{{.Version}} {{.Dir}}' "$mod") || {
		echo "slim.sh: cannot resolve $mod from go.mod" >&2
		exit 1
	}
	read -r have src <<< "$line"
	if [ -z "$src" ]; then
		echo "slim.sh: $mod is not in the module cache: run go mod download" >&2
		exit 1
	fi
	if [ "$have" != "$version" ]; then
		echo "slim.sh: go.mod has $mod $have, $here/$name/$file.sed was written for $version: check it against the new $file" >&2
		exit 1
	fi
	if ! echo "$sum  $src/$file" | sha256sum --check --status; then
		echo "slim.sh: $src/$file is not the file $here/$name/$file.sed was written for" >&2
		exit 1
	fi
	if [ ! -d "$tmp/$name" ]; then # the module's first pin: copy it
		mkdir -p "$tmp/$name"
		# Everything a build may read (embedded files too), without the
		# tests, the examples and the pictures.
		(cd "$src" && find . -type f ! -name '*_test.go' ! -path '*/testdata/*' ! -path './examples/*' \
			! -path './media/*' ! -path './docs/*' | tar -cf - -T -) | tar -xf - -C "$tmp/$name"
		chmod -R u+w "$tmp/$name"
		(cd "$here/$name" && find . -type f ! -name '*.sed' | tar -cf - -T -) | tar -xf - -C "$tmp/$name"
		printf '\nreplace %s => ./%s/%s\n' "$mod" "$dir" "$name" >> "$tmp/wasm.mod"
	fi
	sed -f "$here/$name/$file.sed" "$src/$file" > "$tmp/$name/$file"
done <<< "$pins"
chmod 755 "$tmp"
rm -rf "$dir"
mv -T "$tmp" "$dir"
trap - EXIT
