# metriclab — `make run` starts the product, `make test` passes the tests.
# Both install what they need on a fresh machine (Go modules; node for the
# wasm tests comes with the machine, and is installed from Debian if absent).
# They need Go (the version go.mod asks), make and git first; Debian's
# packages come through apt-get, with sudo for a user who is not root.

GO        ?= go
WASMEXEC  := $(shell $(GO) env GOROOT)/lib/wasm
VERSION   := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
WASMENV   := PATH="$(WASMEXEC):$$PATH" GOOS=js GOARCH=wasm
# Packages that must also run in the browser.
CORE_PKGS := ./core/... ./losses/...
# The page's and the viewer's packages, tested under js/wasm too.
WEB_PKGS  := ./app/... ./wasm/viz/...
SOURCES   := $(shell find core losses server app -name '*.go' 2>/dev/null) go.mod go.sum
# The browser binaries, their precompressed copies, and Go's JS glue.
WASM_SOURCES = $(shell find core losses app wasm -name '*.go' ! -path 'wasm/_slim/*' 2>/dev/null) go.mod go.sum
WASM      := web/app.wasm web/trainer.wasm web/viz.wasm
WEB       := $(WASM) $(WASM:=.gz) $(WASM:=.br) web/wasm_exec.js
ADDR      ?= 127.0.0.1:8000
# Real faces for the README's open-set table: the ORL faces (AT&T's
# "Database of Faces", 40 people × 10 photos; the README's "Unseen faces"
# says what it is and how to lay it out), e.g. make table ORL=/path/to/orl-faces.
ORL       ?= ../shared/data/orl-faces
# The browser peers of `make bench` (convnetjs and TensorFlow.js on lenet-s:
# run.sh, peers.js and their npm lock), a folder beside the checkout that
# the repository does not hold; without it, make bench skips them, saying so.
PEERS     ?= ../shared/peers
# apt-get needs root: a user who is not root runs it through sudo, where
# there is one (without, apt-get says why it cannot).
SUDO      := $(shell [ "$$(id -u)" = 0 ] || ! command -v sudo >/dev/null 2>&1 || echo sudo)
APT       := $(strip $(SUDO) apt-get)

.PHONY: run web build deps node chromium qemu torch test vet test-native test-wasm test-arm64 test-e2e bench table demo clean gpu-check gpu-check-local

## run: build the page, the trainer and the viewer (wasm, precompressed) and metriclab, and serve the playground on http://$(ADDR)
run: deps web bin/metriclab
	bin/metriclab serve --addr $(ADDR)

## web: the browser binaries and their .gz and .br copies
web: $(WEB)

# The browser binaries build with slim copies of go-app, gorgonia, tensor and
# ebiten (a sixth, a half and a quarter smaller: wasm/_slim/slim.sh says why
# and how).
SLIM      := out/slim
web/app.wasm: $(WASM_SOURCES) $(SLIM)/wasm.mod
	GOOS=js GOARCH=wasm $(GO) build -modfile $(SLIM)/wasm.mod -trimpath -ldflags '-s -w' -o $@ ./wasm/app

web/trainer.wasm: $(WASM_SOURCES) $(SLIM)/wasm.mod
	GOOS=js GOARCH=wasm $(GO) build -modfile $(SLIM)/wasm.mod -trimpath -ldflags '-s -w' -o $@ ./wasm/trainer

web/viz.wasm: $(WASM_SOURCES) $(SLIM)/wasm.mod
	GOOS=js GOARCH=wasm $(GO) build -modfile $(SLIM)/wasm.mod -trimpath -ldflags '-s -w' -o $@ ./wasm/viz

$(SLIM)/wasm.mod: go.mod go.sum $(shell find wasm/_slim -type f 2>/dev/null) | deps
	bash wasm/_slim/slim.sh $(SLIM)

# One run writes both copies (gzip -9 and brotli), each renamed into place.
web/%.wasm.gz web/%.wasm.br &: web/%.wasm | bin/metriclab
	bin/metriclab serve --precompress $<

web/wasm_exec.js: $(WASMEXEC)/wasm_exec.js
	cp $< $@

build: bin/metriclab

bin/metriclab: $(SOURCES)
	@mkdir -p bin
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $@ ./server

deps:
	$(GO) mod download

node:
	@command -v node >/dev/null || ($(APT) update -qq && $(APT) install -y -qq nodejs)

# The end-to-end tests drive Debian's headless Chromium.
chromium:
	@command -v chromium >/dev/null || ($(APT) update -qq && $(APT) install -y -qq chromium)

demo: deps bin/metriclab
	@mkdir -p out
	bin/metriclab train --data mnist --arch lenet-s --loss arcface --dim 3 --epochs 1 --out out/demo.safetensors
	bin/metriclab eval --model out/demo.safetensors --data mnist

# qemu-aarch64 runs the arm64 (NEON) kernels' tests on this amd64 machine.
qemu:
	@command -v qemu-aarch64 >/dev/null || ($(APT) update -qq && $(APT) install -y -qq qemu-user)

## test: vet both targets, run the native tests, then the core, losses, page and viewer packages under GOOS=js GOARCH=wasm (node), the SIMD kernels on arm64 (qemu), then the playground end to end in headless Chromium
test: deps node vet test-native test-wasm test-arm64 test-e2e

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || (echo "gofmt needed:"; gofmt -l .; exit 1)
	$(GO) vet ./...
	$(WASMENV) $(GO) vet ./...
	GOARCH=arm64 $(GO) vet ./core/... ./losses/

# The TestE2E… tests need the web build and chromium: test-e2e runs them.
# The trainer's tests run on the slim copies it is built with, beside the
# slim copies' own tests.
test-native: $(SLIM)/wasm.mod
	$(GO) test -count=1 -skip '^TestE2E' $$($(GO) list ./... | grep -v '^metriclab/wasm/trainer$$')
	$(GO) test -count=1 -modfile $(SLIM)/wasm.mod gorgonia.org/gorgonia github.com/hajimehoshi/ebiten/v2/internal/builtinshader ./wasm/trainer/

# On the slim copies, as the browser binaries are built.
test-wasm: node $(SLIM)/wasm.mod
	$(WASMENV) $(GO) test -count=1 -short -modfile $(SLIM)/wasm.mod $(CORE_PKGS) $(WEB_PKGS)

# The matrix product and the convolutions on arm64's NEON kernels, under qemu.
ARM64_PKGS := ./core/gemm/ ./core/conv/ ./core/kern/
test-arm64: qemu
	@mkdir -p out/arm64
	@for p in $(ARM64_PKGS); do \
		GOARCH=arm64 CGO_ENABLED=0 $(GO) test -c -o out/arm64/$$(basename $$p).test $$p && \
		(cd $$p && qemu-aarch64 $(CURDIR)/out/arm64/$$(basename $$p).test -test.count=1) || exit 1; \
	done

## test-e2e: the page in headless Chromium (server/e2e_*_test.go): the wasm binaries' sizes, cold start, the loading bar under throttling, offline reload and training, ArcFace training and the viewer's pixels, the viewer's pacing on software WebGL, compare mode, webcam verify with uploads, a faces model trained on ORL s01–s20 verifying two people it never saw; screenshots and measurements in out/e2e/_artifacts/
test-e2e: deps chromium web bin/metriclab
	@mkdir -p out/e2e
	$(GO) test -count=1 -v -timeout 14m -run '^TestE2E' -artifacts -outputdir $(CURDIR)/out/e2e ./server/

# Debian's PyTorch, the CPU peer of `make bench`.
TORCH := /usr/bin/python3
torch:
	@$(TORCH) -c 'import torch' 2>/dev/null || ($(APT) update -qq && $(APT) install -y -qq python3-torch)

## bench: training throughput natively beside PyTorch on the CPU (same models, ArcFace head, Adam; 1 and 2 threads), the GEMM's GFLOP/s, LeNet++'s convolutions beside PyTorch's, then lenet-s in wasm beside the browser peers, all in one run
BENCH_OUT := out/bench
bench: deps node torch bin/metriclab $(SLIM)/wasm.mod
	@mkdir -p $(BENCH_OUT)
	@rm -f $(BENCH_OUT)/native.jsonl
	@for t in 1 2; do for a in lenet-s lenetpp; do \
		bin/metriclab bench --threads $$t --arch $$a --loss arcface --dim 3 --batch 64 --json --seconds 8 | tee -a $(BENCH_OUT)/native.jsonl; \
		$(TORCH) .ci/torch_cpu.py $$t $$a | tee -a $(BENCH_OUT)/native.jsonl; \
	done; done
	@for t in 1 2; do \
		bin/metriclab bench --threads $$t --arch iresnet18 --loss arcface --dim 512 --classes 1000 --batch 32 --json --seconds 30 --warmup 2 | tee -a $(BENCH_OUT)/native.jsonl; \
		$(TORCH) .ci/torch_cpu.py $$t iresnet18 | tee -a $(BENCH_OUT)/native.jsonl; \
	done
	@$(TORCH) .ci/benchtable.py < $(BENCH_OUT)/native.jsonl
	$(GO) test -run '^$$' -bench 'Peak|Mul/[a-z0-9]+/square512' -benchtime 20x ./core/gemm/
	$(GO) test -run '^$$' -bench 'Plan/lenetpp/threads=1' -benchtime 10x ./core/conv/
	$(TORCH) .ci/torch_conv.py
	$(WASMENV) $(GO) test -run '^$$' -bench 'TrainStep/lenet-s' -benchtime 40x -modfile $(SLIM)/wasm.mod ./losses/
	@if [ -f $(PEERS)/run.sh ]; then bash $(PEERS)/run.sh 6; \
	else echo "make bench: no $(PEERS)/run.sh: the browser peers (convnetjs, TensorFlow.js) skipped; PEERS=DIR names their folder"; fi

## table: the README's tables: every loss at D = 3 and 64, closed and open set, beside raw pixels; the presets on unseen digits and unseen faces, each with its ablation; the presets themselves (about an hour)
table: deps bin/metriclab
	bin/metriclab compare --losses all --dims 3,64 --epochs 2
	bin/metriclab openset --data mnist --preset digits \
		--variant glyphs=0 --variant compose=none --variant 'compose=none glyphs=0' --variant embed-bn=true --variant wd=0 --variant augment=digits --variant augment=none \
		--variant 'compose=none glyphs=0 wd=0 augment=none'
	bin/metriclab openset --data $(ORL) --preset faces --variant align=true --variant views=whole --variant views=whole,upper,lower \
		--variant flip-test=false --variant arch=lenet-s --variant epochs=60 --variant 'embed-bn=false wd=0' --variant augment=none
	bin/metriclab presets

## gpu-check: what the GPU machine runs, built here with CGO_ENABLED=0 into out/gpu-check: the core/cuda tests (cuda.test) and metriclab; copy out/gpu-check and .ci/gpu there and run `bash .ci/gpu/run.sh out/gpu-check` (README: "On a GPU")
gpu-check: deps
	@mkdir -p out/gpu-check
	CGO_ENABLED=0 $(GO) test -c -trimpath -ldflags '-s -w' -o out/gpu-check/cuda.test ./core/cuda
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o out/gpu-check/metriclab ./server
	@du -sh out/gpu-check

## gpu-check-local: the same script on this machine: without a GPU it checks its plumbing on the CPU emulation and PyTorch on the CPU
gpu-check-local: gpu-check
	PYTHON=$${PYTHON:-/usr/bin/python3} bash .ci/gpu/run.sh out/gpu-check

clean:
	rm -rf bin out $(WEB)
