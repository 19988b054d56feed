// Copyright 2022 The Ebitengine Authors
//
// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
//     http://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.

package builtinshader

import (
	"strings"
	"sync"
)

type Filter int

const (
	FilterNearest Filter = iota
	FilterLinear
)

const FilterCount = 2

type Address int

const (
	AddressUnsafe Address = iota
	AddressClampToZero
	AddressRepeat
)

const AddressCount = 3

const (
	UniformColorMBody        = "ColorMBody"
	UniformColorMTranslation = "ColorMTranslation"
)

var (
	shaders  [FilterCount][AddressCount][2][]byte
	shadersM sync.Mutex
)

// source writes the built-in shader's source for the given parameters:
// upstream's template, each of its actions turned into Go.
//
// metriclab's slim copy (wasm/_slim): text/template evaluates methods by
// name through reflection, which makes Go's linker keep every exported
// method of every type in the binary (the viewer's wasm, 12.8 → 9.7 MB).
func source(filter Filter, address Address, useColorM bool) []byte {
	var b strings.Builder
	b.WriteString(`//kage:unit pixels

package main

`)
	if useColorM {
		b.WriteString(`
var ColorMBody mat4
var ColorMTranslation vec4
`)
	}
	b.WriteString(`

`)
	if address == AddressRepeat {
		b.WriteString(`
func adjustTexelForAddressRepeat(p vec2) vec2 {
	origin := imageSrc0Origin()
	size := imageSrc0Size()
	return mod(p - origin, size) + origin
}
`)
	}
	b.WriteString(`

func Fragment(dstPos vec4, srcPos vec2, color vec4) vec4 {
`)
	if filter == FilterNearest {
		b.WriteString(`
`)
		if address == AddressUnsafe {
			b.WriteString(`
	clr := imageSrc0UnsafeAt(srcPos)
`)
		} else if address == AddressClampToZero {
			b.WriteString(`
	clr := imageSrc0At(srcPos)
`)
		} else if address == AddressRepeat {
			b.WriteString(`
	clr := imageSrc0At(adjustTexelForAddressRepeat(srcPos))
`)
		}
		b.WriteString(`
`)
	} else if filter == FilterLinear {
		b.WriteString(`
	p0 := srcPos - 1/2.0
	p1 := srcPos + 1/2.0

`)
		if address == AddressRepeat {
			b.WriteString(`
	p0 = adjustTexelForAddressRepeat(p0)
	p1 = adjustTexelForAddressRepeat(p1)
`)
		}
		b.WriteString(`

`)
		if address == AddressUnsafe {
			b.WriteString(`
	c0 := imageSrc0UnsafeAt(p0)
	c1 := imageSrc0UnsafeAt(vec2(p1.x, p0.y))
	c2 := imageSrc0UnsafeAt(vec2(p0.x, p1.y))
	c3 := imageSrc0UnsafeAt(p1)
`)
		} else {
			b.WriteString(`
	c0 := imageSrc0At(p0)
	c1 := imageSrc0At(vec2(p1.x, p0.y))
	c2 := imageSrc0At(vec2(p0.x, p1.y))
	c3 := imageSrc0At(p1)
`)
		}
		b.WriteString(`

	rate := fract(p1)
	clr := mix(mix(c0, c1, rate.x), mix(c2, c3, rate.x), rate.y)
`)
	}
	b.WriteString(`

`)
	if useColorM {
		b.WriteString(`
	// Un-premultiply alpha.
	// When the alpha is 0, 1-sign(alpha) is 1.0, which means division does nothing.
	clr.rgb /= clr.a + (1-sign(clr.a))
	// Apply the clr matrix.
	clr = (ColorMBody * clr) + ColorMTranslation
	// Premultiply alpha
	clr.rgb *= clr.a
	// Apply the color scale.
	clr *= color
	// Clamp the output.
	clr.rgb = min(clr.rgb, clr.a)
`)
	} else {
		b.WriteString(`
	// Apply the color scale.
	clr *= color
`)
	}
	b.WriteString(`

	return clr
}

`)
	return []byte(b.String())
}

// ShaderSource returns the built-in shader source based on the given parameters.
//
// The returned shader always uses a color matrix so far.
func ShaderSource(filter Filter, address Address, useColorM bool) []byte {
	shadersM.Lock()
	defer shadersM.Unlock()

	var c int
	if useColorM {
		c = 1
	}
	if s := shaders[filter][address][c]; s != nil {
		return s
	}

	b := source(filter, address, useColorM)
	shaders[filter][address][c] = b
	return b
}

var ScreenShaderSource = []byte(`//kage:unit pixels

package main

func Fragment(dstPos vec4, srcPos vec2) vec4 {
	// Blend source colors in a square region, which size is 1/scale.
	scale := imageDstSize()/imageSrc0Size()
	pos := srcPos
	p0 := pos - 1/2.0/scale
	p1 := pos + 1/2.0/scale

	// Texels must be in the source rect, so it is not necessary to check.
	c0 := imageSrc0UnsafeAt(p0)
	c1 := imageSrc0UnsafeAt(vec2(p1.x, p0.y))
	c2 := imageSrc0UnsafeAt(vec2(p0.x, p1.y))
	c3 := imageSrc0UnsafeAt(p1)

	// p is the p1 value in one pixel assuming that the pixel's upper-left is (0, 0) and the lower-right is (1, 1).
	rate := clamp(fract(p1)*scale, 0, 1)
	return mix(mix(c0, c1, rate.x), mix(c2, c3, rate.x), rate.y)
}
`)

var ClearShaderSource = []byte(`//kage:unit pixels

package main

func Fragment() vec4 {
	return vec4(0)
}
`)

func AppendShaderSources(sources [][]byte) [][]byte {
	for filter := Filter(0); filter < FilterCount; filter++ {
		for address := Address(0); address < AddressCount; address++ {
			sources = append(sources, ShaderSource(filter, address, false), ShaderSource(filter, address, true))
		}
	}
	sources = append(sources, ScreenShaderSource, ClearShaderSource)
	return sources
}
