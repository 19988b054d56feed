package data

import (
	"encoding/binary"
	"image"
)

// JPEG markers (ITU-T T.81 Table B.1) and the EXIF values (CIPA DC-008,
// Exif 2.32, §4.6.4 and TIFF 6.0 §2) that exifOrientation reads.
const (
	markerSOI  = 0xd8 // start of image
	markerEOI  = 0xd9 // end of image
	markerSOS  = 0xda // start of scan: the pixels follow
	markerAPP1 = 0xe1 // where EXIF lives

	exifHeader     = "Exif\x00\x00" // the start of an APP1 segment of EXIF
	tagOrientation = 0x0112
	typeShort      = 3 // a 16-bit unsigned integer
)

// exifOrientation returns the EXIF orientation of the JPEG file b, 1 to 8
// (tag 0x0112 of IFD0; see orient for what each means), and 1 (the pixels
// as stored) when b has none or anything on the way to it is malformed: a
// photo that decodes is never refused for its metadata. It reads the
// markers from SOI up to the first SOS, and of the first APP1 segment that
// begins "Exif\0\0" the TIFF header (byte order "II" or "MM", magic 42)
// and IFD0, whose entries must all lie within the segment; the orientation
// must be one SHORT. Every offset is checked against the segment's length,
// and it allocates nothing.
func exifOrientation(b []byte) int {
	if len(b) < 2 || b[0] != 0xff || b[1] != markerSOI {
		return 1
	}
	i := 2
	for {
		// A marker is 0xFF, any number of fill bytes 0xFF, and its code;
		// each turn of the loop moves i on by at least one byte.
		if i >= len(b) || b[i] != 0xff {
			return 1
		}
		for i < len(b) && b[i] == 0xff {
			i++
		}
		if i >= len(b) {
			return 1
		}
		code := b[i]
		i++
		switch {
		case code == markerSOS || code == markerEOI:
			return 1
		case code == 0x01 || code >= 0xd0 && code <= 0xd7: // TEM, RSTn: no length
			continue
		}
		if i+2 > len(b) {
			return 1
		}
		n := int(binary.BigEndian.Uint16(b[i:])) // counting its own two bytes
		if n < 2 || i+n > len(b) {
			return 1
		}
		seg := b[i+2 : i+n]
		i += n
		if code == markerAPP1 && len(seg) >= len(exifHeader) && string(seg[:len(exifHeader)]) == exifHeader {
			return tiffOrientation(seg[len(exifHeader):])
		}
	}
}

// tiffOrientation returns the orientation tag of IFD0 of the TIFF
// structure t (the body of an EXIF segment, which bounds every offset):
// 1 to 8, or 1 when t is malformed or has none.
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var order binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		order = binary.LittleEndian
	case "MM":
		order = binary.BigEndian
	default:
		return 1
	}
	if order.Uint16(t[2:]) != 42 {
		return 1
	}
	// IFD0: a count n, n entries of 12 bytes, the offset of IFD1.
	ifd := order.Uint32(t[4:])
	if ifd < 8 || uint64(ifd)+2 > uint64(len(t)) {
		return 1
	}
	n := int(order.Uint16(t[ifd:]))
	entries := t[ifd+2:]
	if len(entries) < 12*n {
		return 1
	}
	for k := range n {
		// An entry: tag, type, count, and a value of up to four bytes
		// (a SHORT in the first two, in the file's byte order).
		e := entries[12*k : 12*k+12]
		if order.Uint16(e) != tagOrientation {
			continue
		}
		if order.Uint16(e[2:]) != typeShort || order.Uint32(e[4:]) != 1 {
			return 1
		}
		if v := order.Uint16(e[8:]); v >= 1 && v <= 8 {
			return int(v)
		}
		return 1
	}
	return 1
}

// orient returns img as it is meant to be seen, given its EXIF orientation
// o (img itself for 1, or a value outside 1 to 8). EXIF says where the
// stored rows and columns go (CIPA DC-008 §4.6.4, tag 0x0112):
//
//	o  stored row 0 is   stored column 0 is   so, to see it
//	1  top               left                 as stored
//	2  top               right                mirror left to right
//	3  bottom            right                turn 180°
//	4  bottom            left                 mirror top to bottom
//	5  left              top                  transpose (mirror, turn 270° clockwise)
//	6  right             top                  turn 90° clockwise
//	7  right             bottom               transverse (mirror, turn 90° clockwise)
//	8  left              bottom               turn 270° clockwise
//
// For 5 to 8 the width and height swap. The result starts at (0, 0) and
// has img's kind for a grey image, a YCbCr image (4:4:4, each pixel with
// the chroma it had, so its grey and colour read as img's did) and RGBA
// 64 bits a pixel for the rest.
func orient(img image.Image, o int) image.Image {
	if o < 2 || o > 8 {
		return img
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	// from returns the pixel of img, relative to b.Min, seen at (x, y).
	from := func(x, y int) (int, int) {
		switch o {
		case 2:
			return w - 1 - x, y
		case 3:
			return w - 1 - x, h - 1 - y
		case 4:
			return x, h - 1 - y
		case 5:
			return y, x
		case 6:
			return y, h - 1 - x
		case 7:
			return w - 1 - y, h - 1 - x
		}
		return w - 1 - y, x // 8
	}
	r := image.Rect(0, 0, dw, dh)
	switch m := img.(type) {
	case *image.Gray:
		dst := image.NewGray(r)
		for y := range dh {
			for x := range dw {
				sx, sy := from(x, y)
				dst.Pix[dst.PixOffset(x, y)] = m.Pix[m.PixOffset(b.Min.X+sx, b.Min.Y+sy)]
			}
		}
		return dst
	case *image.YCbCr:
		dst := image.NewYCbCr(r, image.YCbCrSubsampleRatio444)
		for y := range dh {
			for x := range dw {
				sx, sy := from(x, y)
				yi, ci := m.YOffset(b.Min.X+sx, b.Min.Y+sy), m.COffset(b.Min.X+sx, b.Min.Y+sy)
				di := dst.YOffset(x, y) // = dst.COffset(x, y) at 4:4:4
				dst.Y[di], dst.Cb[di], dst.Cr[di] = m.Y[yi], m.Cb[ci], m.Cr[ci]
			}
		}
		return dst
	}
	dst := image.NewRGBA64(r)
	for y := range dh {
		for x := range dw {
			sx, sy := from(x, y)
			dst.Set(x, y, img.At(b.Min.X+sx, b.Min.Y+sy))
		}
	}
	return dst
}
