// Command asm writes the amd64 micro-kernels of package gemm with avo
// (github.com/mmcloughlin/avo). It is its own module, so that avo is a
// build tool and never a dependency of metriclab; package gemm runs it
// through go generate:
//
//	cd core/gemm && go generate
//
// Every kernel computes one tile of C (+)= A·B of the contract in
// core/gemm/doc.go,
//
//	C[r, j] = (acc ? C[r, j] : 0) + Σ_{t<kc} a[aOff[t] + rowOff[r]] · b[β(t) + j],
//	β(t) = bOff == nil ? t·ldb : bOff[t],
//
// r < MR, j < NR, with the MR×NR tile of C held in vector registers for the
// whole reduction. Each step t loads one offset (two with bOff), the NR
// values of B's row t and broadcasts the MR values of A, then issues
// MR·NR/lanes fused multiply-adds. Sums accumulate in float32 in the order
// t = 0, 1, …, kc−1. B's offset table lets Mul skip steps of a block (the
// zeros of a band) without copying the B rows it keeps. Every kernel
// flushes subnormal numbers to zero between its entry and its return
// (MXCSR's FZ and DAZ; core/gemm/doc.go says why).
package main

import (
	"flag"
	"fmt"
	"log"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// Tile shapes. AVX-512 has 32 vector registers of 16 float32: MR·NV
// accumulators plus NV rows of B, with A broadcast straight from memory
// inside the multiply-add. AVX2 has 16 registers of 8 float32: MR·NV
// accumulators, NV rows of B and one broadcast register. MR is also bounded
// by the general-purpose registers: 6 for the loop (ldb or B's offset
// table in the same one) plus one row offset per row.
var (
	zShapes = map[int]int{4: 6, 3: 8, 2: 8, 1: 8} // NV (vectors of 16) → largest MR
	yShapes = map[int]int{3: 4, 2: 6, 1: 8}       // NV (vectors of 8) → largest MR
)

// MXCSR's flush-to-zero and denormals-are-zero bits.
const (
	mxcsrFZ  = 1 << 15
	mxcsrDAZ = 1 << 6
)

const signature = "func(kc int, a *float32, aOff *int32, rowOff *int32, b *float32, ldb int, bOff *int32, c *float32, ldc int, masks uint64, acc bool)"

func main() {
	neonOut := flag.String("neon", "", "write the arm64 kernels to this .s file (and their declarations beside it)")
	neonStubs := flag.String("neon-stubs", "", "the Go declarations of the arm64 kernels")
	ConstraintExpr("!purego")
	for nv := 1; nv <= 4; nv++ {
		for mr := 1; mr <= zShapes[nv]; mr++ {
			kernel("Z", mr, nv)
		}
	}
	for nv := 1; nv <= 3; nv++ {
		for mr := 1; mr <= yShapes[nv]; mr++ {
			kernel("Y", mr, nv)
		}
	}
	peak()
	Generate()
	if *neonOut != "" {
		if err := writeNEON(*neonOut, *neonStubs); err != nil {
			log.Fatal(err)
		}
	}
}

// kernel writes kern{Z|Y}{MR}x{NR}. The AVX-512 kernels mask the columns of
// B and C with masks (16 bits per vector, vector v in bits 16v..16v+15); the
// AVX2 kernels ignore masks and read and write all NR columns.
func kernel(isa string, mr, nv int) {
	lanes := map[string]int{"Z": 16, "Y": 8}[isa]
	width := 4 * lanes
	name := fmt.Sprintf("kern%s%dx%d", isa, mr, nv*lanes)
	TEXT(name, NOSPLIT, signature)
	Pragma("noescape")
	Doc(fmt.Sprintf("%s computes a %d×%d tile (%s).", name, mr, nv*lanes, map[string]string{"Z": "AVX-512", "Y": "AVX2+FMA"}[isa]))

	// Flush subnormals to zero (MXCSR.FZ) and read them as zero
	// (MXCSR.DAZ) in this kernel only: a product or a sum that falls
	// below the smallest normal float32, 2⁻¹²⁶, or an operand that lies
	// there, otherwise takes a microcode assist of a hundred cycles or
	// more per instruction on Intel cores. Go's ABI wants the MXCSR's
	// default back at every call and return (abi-internal.md).
	mxcsr := AllocLocal(8)
	STMXCSR(mxcsr)
	ftz := GP32()
	MOVL(mxcsr, ftz)
	ORL(U32(mxcsrFZ|mxcsrDAZ), ftz)
	MOVL(ftz, mxcsr.Offset(4))
	LDMXCSR(mxcsr.Offset(4))

	vec := ZMM
	if isa == "Y" {
		vec = YMM
	}
	var ks []Register
	if isa == "Z" {
		m := GP64()
		Load(Param("masks"), m)
		for v := 0; v < nv; v++ {
			k := K()
			KMOVW(m.As32(), k)
			if v+1 < nv {
				SHRQ(U8(16), m)
			}
			ks = append(ks, k)
		}
	}

	kc := Load(Param("kc"), GP64())
	a := Load(Param("a"), GP64())
	off := Load(Param("aOff"), GP64())
	ro := Load(Param("rowOff"), GP64())
	rows := make([]GPVirtual, mr)
	for r := range rows {
		rows[r] = GP64()
		MOVLQSX(Mem{Base: ro, Disp: 4 * r}, rows[r])
	}
	b := Load(Param("b"), GP64())

	acc := make([][]VecVirtual, mr)
	for r := range acc {
		acc[r] = make([]VecVirtual, nv)
		for v := range acc[r] {
			acc[r][v] = vec()
			if isa == "Z" {
				VPXORD(acc[r][v], acc[r][v], acc[r][v])
			} else {
				VXORPS(acc[r][v], acc[r][v], acc[r][v])
			}
		}
	}
	bv := make([]VecVirtual, nv)
	for v := range bv {
		bv[v] = vec()
	}
	var bc VecVirtual
	if isa == "Y" {
		bc = vec()
	}
	// step is one reduction step: B's row at row, A's column through off
	// in p (after B's loads when they read p).
	step := func(row Mem, p GPVirtual, bFirst bool) {
		loadB := func() {
			for v := 0; v < nv; v++ {
				m := row
				m.Disp += width * v
				if isa == "Z" {
					VMOVUPS_Z(m, ks[v], bv[v])
				} else {
					VMOVUPS(m, bv[v])
				}
			}
		}
		if bFirst {
			loadB()
		}
		MOVLQSX(Mem{Base: off}, p)
		LEAQ(Mem{Base: a, Index: p, Scale: 4}, p)
		if !bFirst {
			loadB()
		}
		for r := 0; r < mr; r++ {
			src := Mem{Base: p, Index: rows[r], Scale: 4}
			if isa == "Y" {
				VBROADCASTSS(src, bc)
			}
			for v := 0; v < nv; v++ {
				if isa == "Z" {
					VFMADD231PS_BCST(src, bv[v], acc[r][v])
				} else {
					VFMADD231PS(bv[v], bc, acc[r][v])
				}
			}
		}
		ADDQ(U8(4), off)
	}

	TESTQ(kc, kc)
	JZ(LabelRef(name + "_store"))
	tab := Load(Param("bOff"), GP64())
	TESTQ(tab, tab)
	JNZ(LabelRef(name + "_table"))

	ldb := Load(Param("ldb"), GP64())
	SHLQ(U8(2), ldb)
	Label(name + "_loop")
	step(Mem{Base: b}, GP64(), false)
	ADDQ(ldb, b)
	DECQ(kc)
	JNZ(LabelRef(name + "_loop"))
	JMP(LabelRef(name + "_store"))

	// The same steps with B's rows at b + 4·bOff[t].
	Label(name + "_table")
	p := GP64()
	MOVLQSX(Mem{Base: tab}, p)
	step(Mem{Base: b, Index: p, Scale: 4}, p, true)
	ADDQ(U8(4), tab)
	DECQ(kc)
	JNZ(LabelRef(name + "_table"))

	Label(name + "_store")
	c := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(2), ldc)
	flag := GP8()
	Load(Param("acc"), flag)
	TESTB(flag, flag)
	JZ(LabelRef(name + "_write"))
	cr := GP64()
	MOVQ(c, cr)
	for r := 0; r < mr; r++ {
		for v := 0; v < nv; v++ {
			m := Mem{Base: cr, Disp: width * v}
			if isa == "Z" {
				VADDPS_Z(m, acc[r][v], ks[v], acc[r][v])
			} else {
				VADDPS(m, acc[r][v], acc[r][v])
			}
		}
		if r+1 < mr {
			ADDQ(ldc, cr)
		}
	}
	Label(name + "_write")
	for r := 0; r < mr; r++ {
		for v := 0; v < nv; v++ {
			m := Mem{Base: c, Disp: width * v}
			if isa == "Z" {
				VMOVUPS(acc[r][v], ks[v], m)
			} else {
				VMOVUPS(acc[r][v], m)
			}
		}
		if r+1 < mr {
			ADDQ(ldc, c)
		}
	}
	LDMXCSR(mxcsr)
	VZEROUPPER()
	RET()
}

// peak writes peakZ(n): n rounds of 24 independent AVX-512 fused
// multiply-adds on registers, the most this core can do (BenchmarkPeak
// reports it beside the products' GFLOP/s).
func peak() {
	TEXT("peakZ", NOSPLIT, "func(n int)")
	Doc("peakZ runs n rounds of 24 independent fused multiply-adds of 16 lanes.")
	n := Load(Param("n"), GP64())
	acc := make([]VecVirtual, 24)
	for i := range acc {
		acc[i] = ZMM()
		VPXORD(acc[i], acc[i], acc[i])
	}
	x, y := ZMM(), ZMM()
	VPXORD(x, x, x)
	VPXORD(y, y, y)
	TESTQ(n, n)
	JZ(LabelRef("peakZ_done"))
	Label("peakZ_loop")
	for i := range acc {
		VFMADD231PS(x, y, acc[i])
	}
	DECQ(n)
	JNZ(LabelRef("peakZ_loop"))
	Label("peakZ_done")
	VZEROUPPER()
	RET()
}
