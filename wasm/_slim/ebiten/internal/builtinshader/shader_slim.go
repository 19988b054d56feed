package builtinshader

// metriclab's slim copy (wasm/_slim): added beside shader.go, which
// shader.go.sed leaves without its text/template. text/template evaluates
// methods by name through reflection, which makes Go's linker keep every
// exported method of every type in the binary (the viewer's wasm, 12.8 →
// 9.7 MB).

import "strings"

// source writes the built-in shader's source for the given parameters:
// upstream's template, each of its actions turned into Go.
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
