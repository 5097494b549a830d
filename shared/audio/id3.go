package audio

import (
	"bytes"
	"encoding/binary"
	"strings"
	"time"
)

// ID3v2 (id3.org, v2.2, v2.3 and v2.4) is read here rather than with a tag
// library: only a few text frames are wanted, a damaged frame must not lose
// the ones before it, and no frame's claimed size may cause an allocation
// the file does not back.

const (
	id3HeaderLen = 10
	// maxID3Unsync bounds how much of an unsynchronised tag is read into
	// memory to undo the unsynchronisation; the text frames come first in
	// practice, pictures after them.
	maxID3Unsync = 1 << 20
	// maxTextFrame bounds the bytes read from one text frame.
	maxTextFrame = 64 << 10
	// maxFrames bounds the frames walked in one tag.
	maxFrames = 4096
)

// id3Header is the fixed 10-byte header of an ID3v2 tag.
type id3Header struct {
	version byte // 2, 3 or 4
	flags   byte
	size    int64 // the tag's bytes after the header, footer excluded
}

// total is the length of the whole tag, header and footer included.
func (h id3Header) total() int64 {
	n := id3HeaderLen + h.size
	if h.version == 4 && h.flags&0x10 != 0 {
		n += id3HeaderLen
	}
	return n
}

// parseID3Header reads an ID3v2 header at the start of b.
func parseID3Header(b []byte) (id3Header, bool) {
	if len(b) < id3HeaderLen || string(b[:3]) != "ID3" {
		return id3Header{}, false
	}
	v := b[3]
	if v < 2 || v > 4 || b[4] == 0xFF {
		return id3Header{}, false
	}
	size, ok := syncsafe(b[6:10])
	if !ok {
		return id3Header{}, false
	}
	return id3Header{version: v, flags: b[5], size: size}, true
}

// syncsafe decodes a 28-bit integer stored 7 bits a byte.
func syncsafe(b []byte) (int64, bool) {
	var n int64
	for _, c := range b {
		if c&0x80 != 0 {
			return 0, false
		}
		n = n<<7 | int64(c)
	}
	return n, true
}

// readID3v2 reads the title and recorded date from the ID3v2 tag at off, if
// there is one, and reports the tag's total length (0 when there is none).
// The tag is not read past limit (the end of the chunk that holds it).
func readID3v2(src *source, off, limit int64, t *tags, now time.Time) int64 {
	hb, ok := src.full(off, id3HeaderLen)
	if !ok {
		return 0
	}
	h, ok := parseID3Header(hb)
	if !ok {
		return 0
	}
	// v2.2's compression flag has no defined scheme: nothing can be read.
	if h.version == 2 && h.flags&0x40 != 0 {
		return h.total()
	}
	body := src
	start, end := off+id3HeaderLen, min(off+id3HeaderLen+h.size, src.size, limit)
	if h.flags&0x80 != 0 && h.version < 4 {
		// Unsynchronisation of the whole tag (v2.2, v2.3): frame sizes count
		// the bytes after it is undone.
		raw := src.read(start, min(end-start, maxID3Unsync))
		plain := undoUnsync(raw)
		body = &source{r: bytes.NewReader(plain), size: int64(len(plain))}
		start, end = 0, int64(len(plain))
	}
	if h.flags&0x40 != 0 {
		start = skipExtendedHeader(body, start, h.version)
	}
	var f id3Frames
	f.walk(body, start, end, h)
	f.apply(t, now)
	return h.total()
}

// maxLeadingTags bounds the ID3v2 tags read one after another at the start
// of a file (some taggers add a new tag in front of the old one).
const maxLeadingTags = 4

// readLeadingID3v2 reads the ID3v2 tags at the start of the file, the first
// one's fields winning, and returns where the content after them starts.
func readLeadingID3v2(src *source, t *tags) int64 {
	var off int64
	for range maxLeadingTags {
		n := readID3v2(src, off, src.size, t, src.now)
		if n == 0 {
			break
		}
		off += n
	}
	return off
}

// skipExtendedHeader returns where the frames start after an extended
// header at off.
func skipExtendedHeader(src *source, off int64, version byte) int64 {
	b, ok := src.full(off, 4)
	if !ok {
		return src.size
	}
	if version == 4 {
		n, ok := syncsafe(b) // counts its own four bytes
		if !ok || n < 4 {
			return src.size
		}
		return off + n
	}
	return off + 4 + int64(binary.BigEndian.Uint32(b))
}

// undoUnsync removes the 0x00 stuffed after every 0xFF.
func undoUnsync(b []byte) []byte {
	out := b[:0]
	for i := 0; i < len(b); i++ {
		out = append(out, b[i])
		if b[i] == 0xFF && i+1 < len(b) && b[i+1] == 0x00 {
			i++
		}
	}
	return out
}

// id3Frames holds the text frames that matter here.
type id3Frames struct {
	title, recorded, year, dayMonth string
}

// walk reads the frames between start and end.
func (f *id3Frames) walk(src *source, start, end int64, h id3Header) {
	hdrLen := int64(10)
	if h.version == 2 {
		hdrLen = 6
	}
	pos := start
	for range maxFrames {
		if pos+hdrLen > end {
			return
		}
		fh, ok := src.full(pos, hdrLen)
		if !ok {
			return
		}
		var id string
		var size int64
		var flags byte
		switch h.version {
		case 2:
			id, size = string(fh[:3]), int64(be24(fh[3:6]))
		case 3:
			id, size, flags = string(fh[:4]), int64(binary.BigEndian.Uint32(fh[4:8])), fh[9]
		default:
			id, flags = string(fh[:4]), fh[9]
			var ok bool
			if size, ok = syncsafe(fh[4:8]); !ok {
				// Some writers (early iTunes) store a plain integer.
				size = int64(binary.BigEndian.Uint32(fh[4:8]))
			}
		}
		if h.version > 2 && (id[3] == 0 || id[3] == ' ') && validFrameID(id[:3]) {
			// iTunes (and a few others) wrote v2.2's three-letter ids,
			// padded, in v2.3 frame headers: "TT2\x00". ffmpeg reads them
			// as the v2.2 frames they name.
			id = id[:3]
		}
		if !validFrameID(id) || size > end-pos-hdrLen {
			return // padding, or a frame cut off
		}
		if dst := f.field(id); dst != nil && *dst == "" {
			if data, ok := frameData(src, pos+hdrLen, size, flags, h); ok {
				*dst = decodeTextFrame(data)
			}
		}
		pos += hdrLen + size
	}
}

// field is where the text of frame id goes, or nil when it is not wanted.
func (f *id3Frames) field(id string) *string {
	switch id {
	case "TIT2", "TT2":
		return &f.title
	case "TDRC", "TRD": // recording time (v2.4); TRD is v2.2's free-form dates
		return &f.recorded
	case "TYER", "TYE":
		return &f.year
	case "TDAT", "TDA":
		return &f.dayMonth
	}
	return nil
}

// frameData returns a frame's content, with v2.3/v2.4 frame flags applied;
// false for compressed or encrypted frames, which are skipped.
func frameData(src *source, off, size int64, flags byte, h id3Header) ([]byte, bool) {
	skip := int64(0)
	unsync := false
	switch h.version {
	case 3:
		if flags&0xC0 != 0 { // compressed, encrypted
			return nil, false
		}
		if flags&0x20 != 0 { // grouping identity
			skip++
		}
	case 4:
		if flags&0x0C != 0 { // compressed, encrypted
			return nil, false
		}
		if flags&0x40 != 0 { // grouping identity
			skip++
		}
		if flags&0x01 != 0 { // data length indicator
			skip += 4
		}
		unsync = flags&0x02 != 0 || h.flags&0x80 != 0
	}
	if skip > size {
		return nil, false
	}
	b := src.read(off+skip, min(size-skip, maxTextFrame))
	if unsync {
		b = undoUnsync(b)
	}
	return b, true
}

// validFrameID reports whether id is made of capital letters and digits, as
// every frame ID is; anything else is padding or garbage.
func validFrameID(id string) bool {
	for _, c := range []byte(id) {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// decodeTextFrame decodes a text frame's first value.
func decodeTextFrame(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	enc, b := b[0], b[1:]
	var s string
	switch enc {
	case 0: // ISO-8859-1
		if i := bytes.IndexByte(b, 0); i >= 0 {
			b = b[:i]
		}
		s = latin1(string(b))
	case 1: // UTF-16 with a byte order mark
		bigEndian := false
		if len(b) >= 2 && b[0] == 0xFE && b[1] == 0xFF {
			bigEndian, b = true, b[2:]
		} else if len(b) >= 2 && b[0] == 0xFF && b[1] == 0xFE {
			b = b[2:]
		}
		s = decodeUTF16(b, bigEndian)
	case 2: // UTF-16BE
		s = decodeUTF16(b, true)
	case 3: // UTF-8
		s = string(b)
	default:
		return ""
	}
	return cleanText(s)
}

// apply puts what the frames say into t.
func (f id3Frames) apply(t *tags, now time.Time) {
	t.setTitle(f.title)
	if f.recorded != "" {
		t.setDate(parseDate(f.recorded, now))
	}
	if f.year != "" {
		t.setDate(parseYearDayMonth(f.year, f.dayMonth, now))
	}
}

// readID3v1 reads the title and year of the 128-byte ID3v1 tag that ends
// an MP3, and reports whether there is one.
func readID3v1(src *source, t *tags, now time.Time) bool {
	if src.size < 128 {
		return false
	}
	b, ok := src.full(src.size-128, 128)
	if !ok || string(b[:3]) != "TAG" {
		return false
	}
	t.setTitle(strings.TrimRight(string(b[3:33]), " \x00"))
	t.setDate(parseDate(string(b[93:97]), now))
	return true
}
