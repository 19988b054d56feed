package view

import (
	"testing"
	"time"
)

func TestSoftwareRenderer(t *testing.T) {
	for _, tc := range []struct {
		name string
		want bool
	}{
		// Headless Chromium here (the end-to-end tests check it there).
		{"ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)", true},
		{"Google SwiftShader", true},
		{"llvmpipe (LLVM 15.0.6, 256 bits)", true},
		{"Mesa/X.org, llvmpipe (LLVM 17.0.6, 256 bits)", true},
		{"softpipe", true},
		{"ANGLE (Microsoft, Microsoft Basic Render Driver Direct3D11 vs_5_0 ps_5_0, D3D11)", true},
		{"ANGLE (NVIDIA, NVIDIA GeForce RTX 3080 Direct3D11 vs_5_0 ps_5_0, D3D11)", false},
		{"ANGLE (Intel, Mesa Intel(R) UHD Graphics 620 (KBL GT2), OpenGL 4.6)", false},
		{"Apple M1", false},
		{"WebKit WebGL", false}, // masked: nothing known, a GPU assumed
		{"", false},
	} {
		if got := SoftwareRenderer(tc.name); got != tc.want {
			t.Errorf("SoftwareRenderer(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestMaskedRenderer(t *testing.T) {
	for name, want := range map[string]bool{
		"WebKit WebGL": true, "Mozilla": true, "": true,
		"llvmpipe, or similar":                 false, // Firefox's sanitised name
		"ANGLE (Intel, Intel(R) UHD Graphics)": false,
	} {
		if got := MaskedRenderer(name); got != want {
			t.Errorf("MaskedRenderer(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestPacing(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	for _, tc := range []struct {
		software bool
		cost     time.Duration
		want     time.Duration
	}{
		{false, ms(2), time.Second / 15}, // a GPU: 15 a second
		{false, ms(100), ms(400)},        // a quarter of the time
		{false, ms(400), time.Second},    // at least one a second
		{true, ms(2), time.Second / 4},   // software: 4 a second at most
		{true, ms(100), ms(1600)},        // a sixteenth of the time
		{true, ms(400), 4 * time.Second}, // at least one every 4 s
	} {
		p := Pacing(tc.software)
		p.Cost(tc.cost)
		if got := p.Interval(); got != tc.want {
			t.Errorf("software %v, repaints of %v: interval %v, want %v", tc.software, tc.cost, got, tc.want)
		}
	}
}
