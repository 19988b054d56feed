#!/usr/bin/env bash
# The GPU check of the CUDA engine, in one run (README: "On a GPU"). Built
# here by `make gpu-check` into out/gpu-check (CGO_ENABLED=0: cuda.test,
# the core/cuda tests, and metriclab), it runs on the GPU machine, which needs
# no Go toolchain:
#
#   bash .ci/gpu/run.sh out/gpu-check        (out/gpu-check and .ci/gpu copied there)
#
# 1. every kernel and whole-step parity test of core/cuda on the GPU
#    (METRICLAB_BACKENDS=device: against the gorgonia engine, fp32, TF32 off);
# 2. metriclab bench --device cuda, FP32 and TF32, the batch copied from the
#    host at every step and resident: lenetpp ArcFace D=3 batch 256, and
#    iresnet18 112×112 512-D ArcFace over 10k classes batch 256;
# 3. the PyTorch twin (.ci/gpu/torch_twin.py) of the same two models;
# 4. a summary (.ci/gpu/summary.py): tests, img/s beside PyTorch eager, the
#    ratio and the goal.
#
# Every phase has a time limit; the whole run stays under 8 minutes. Its
# files are written to $OUT (when it is set) or to
# out/gpu-check-results. Without a GPU (this machine) it checks its own
# plumbing in a few minutes: the same steps at small sizes on the CUDA
# engine's CPU emulation (--device cuda-emu, g++) and PyTorch on the CPU,
# and the summary says "no GPU".
set -u
bin=${1:-out/gpu-check}
here=$(cd "$(dirname "$0")" && pwd)
res=${OUT:-out/gpu-check-results}
mkdir -p "$res"
start=$(date +%s)
elapsed() { echo $(( $(date +%s) - start ))s; }
# late: the 8 minutes are nearly spent; what is left is skipped, and said.
late() {
	if [ $(( $(date +%s) - start )) -gt 420 ]; then
		echo "skipped $1: past 7 minutes"
		return 0
	fi
	return 1
}

# The CUDA libraries: the driver's, the toolkit's, and the ones PyTorch's
# wheels carry (NVRTC and cuBLAS of CUDA 13 or 12).
libs=""
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib; do
	[ -d "$d" ] && libs="$libs:$d"
done
py=${PYTHON:-python3} # the one with PyTorch
if command -v $py >/dev/null; then
	for d in $($py -c 'import nvidia, glob; [print(p) for r in nvidia.__path__ for p in glob.glob(r + "/*/lib")]' 2>/dev/null); do
		libs="$libs:$d"
	done
fi
export LD_LIBRARY_PATH="${libs#:}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

# Is there a GPU? The first bench also compiles the kernels (NVRTC, then
# the kernel cache); when it fails on a machine with a GPU, the tests below
# say why.
probe=$(timeout 60 "$bin/metriclab" bench --device cuda --arch mlp --batch 8 --seconds 0.2 --warmup 1 --json 2>&1)
probed=$?
if [ $probed -eq 0 ] || nvidia-smi -L >/dev/null 2>&1; then
	gpu=1
	echo "== GPU: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null) ($(elapsed))"
	[ $probed -ne 0 ] && echo "== but the CUDA engine failed its first step: $probe"
else
	gpu=0
	echo "== no GPU: $probe"
	echo "== checking the script's plumbing on the CPU emulation of the kernels and PyTorch on the CPU"
fi

if [ $gpu = 1 ]; then
	backend=device
	testrun='.'
	testflags=(-test.timeout 170s)
	lenetpp=(--arch lenetpp --loss arcface --dim 3 --batch 256 --classes 10 --seconds 5 --warmup 20)
	iresnet=(--arch iresnet18 --input 3x112x112 --loss arcface --dim 512 --batch 256 --classes 10000 --seconds 8 --warmup 5)
	twin_lenetpp=(--model lenetpp --batch 256 --dim 3 --classes 10 --side 28 --seconds 5 --warmup 20)
	twin_iresnet=(--model iresnet18 --batch 256 --dim 512 --classes 10000 --side 112 --seconds 8 --warmup 5)
	device=cuda
else
	backend=emu
	testrun='TestKernel|TestGemm|TestLossKernels|TestGraphMatchesEager|TestNonFiniteStep|TestStepParity/emu/lenet-s/arcface'
	testflags=(-test.timeout 170s -test.short)
	lenetpp=(--arch lenetpp --loss arcface --dim 3 --batch 8 --classes 10 --seconds 2 --warmup 2)
	iresnet=(--arch iresnet18 --input 3x16x16 --loss arcface --dim 8 --batch 4 --classes 100 --seconds 2 --warmup 1)
	twin_lenetpp=(--model lenetpp --batch 8 --dim 3 --classes 10 --side 28 --seconds 2 --warmup 2)
	twin_iresnet=(--model iresnet18 --batch 4 --dim 8 --classes 100 --side 16 --seconds 2 --warmup 1)
	device=cuda-emu
fi

echo "== 1. kernel and parity tests on $backend ($(elapsed))"
METRICLAB_BACKENDS=$backend timeout 180 "$bin/cuda.test" -test.run "$testrun" -test.v "${testflags[@]}" >"$res/tests.log" 2>&1
echo "tests exit $? ($(elapsed)); log in $res/tests.log"
grep -E '^(--- FAIL|FAIL|ok|PASS)|^    --- FAIL' "$res/tests.log" | head -20

echo "== 2. metriclab bench on $device ($(elapsed))"
: >"$res/ours.jsonl"
for flags in "" "--tf32" "--resident" "--tf32 --resident"; do
	[ -n "$flags" ] && [ $gpu = 0 ] && [ "$flags" != "--resident" ] && continue # TF32 means nothing on the emulation
	for model in lenetpp iresnet; do
		if [ $model = lenetpp ]; then args=("${lenetpp[@]}"); else args=("${iresnet[@]}"); fi
		log="$res/bench-$model${flags// /}.err"
		late "bench $model $flags" && continue
		timeout 45 "$bin/metriclab" bench --device $device --opt sgd --lr 0.01 --json $flags "${args[@]}" >>"$res/ours.jsonl" 2>"$log" ||
			echo "bench $model $flags failed: $(tail -1 "$log")"
	done
done
cat "$res/ours.jsonl"

echo "== 3. PyTorch twin ($(elapsed))"
: >"$res/torch.jsonl"
modes=host,resident
tf32=off,conv
[ $gpu = 0 ] && tf32=off
for model in lenetpp iresnet; do
	if [ $model = lenetpp ]; then args=("${twin_lenetpp[@]}"); else args=("${twin_iresnet[@]}"); fi
	late "torch $model" && continue
	timeout 90 $py "$here/torch_twin.py" --modes $modes --tf32 $tf32 "${args[@]}" >>"$res/torch.jsonl" 2>"$res/torch-$model.err" ||
		echo "torch $model failed: $(tail -1 "$res/torch-$model.err")"
done
cat "$res/torch.jsonl"

echo "== 4. summary ($(elapsed))"
[ $gpu = 0 ] && echo "no GPU: the figures below are the plumbing's, on the CPU, not the engine's"
$py "$here/summary.py" --backend "$backend" "$res/ours.jsonl" "$res/torch.jsonl" "$res/tests.log" | tee "$res/summary.txt"
echo "done in $(elapsed)"
