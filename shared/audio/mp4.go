package audio

import (
	"encoding/binary"
	"errors"
	"math"
	"time"
)

// M4A: the ISO base media file format (MP4) with an audio track. The file is
// a tree of boxes (size, type, payload); what matters here lies in moov:
// mvhd (timescale and duration), each trak's hdlr (is it sound?), mdhd and
// stsd (rate, channels), and the iTunes-style tags in udta/meta/ilst.

// maxBoxes bounds the boxes visited in one file.
const maxBoxes = 4096

// mp4Box is one box: its type, where its payload starts, and where it says
// it ends (which may lie past the end of a cut file).
type mp4Box struct {
	typ       string
	body, end int64
}

// mp4Movie is what the boxes of a file say.
type mp4Movie struct {
	moov, moovComplete bool // a moov box was found; it lies wholly in the file
	audio              bool // a sound track was found
	timescale          uint64
	duration           uint64 // in timescale units; 0 when unknown
	fragmentDuration   uint64 // mvex/mehd, for fragmented files
	track              mp4Track
	mdatDeclared       int64 // media data bytes the mdat boxes claim
	mdatPresent        int64 // and the ones the file holds
	tags               tags
}

// mp4Track is what one trak box says.
type mp4Track struct {
	handler              string
	timescale, duration  uint64
	sampleRate, channels int
}

// mp4Walker visits boxes within a budget shared by the whole file.
type mp4Walker struct {
	src    *source
	budget int
}

// children calls fn for each box between start and end (exclusive).
func (w *mp4Walker) children(start, end int64, fn func(mp4Box)) {
	end = min(end, w.src.size)
	for off := start; off+8 <= end && w.budget > 0; w.budget-- {
		h, ok := w.src.full(off, 8)
		if !ok {
			return
		}
		b := mp4Box{typ: string(h[4:8]), body: off + 8}
		switch size := int64(binary.BigEndian.Uint32(h)); size {
		case 0: // to the end of the enclosing box
			b.end = end
		case 1: // a 64-bit size follows the type
			ext, ok := w.src.full(off+8, 8)
			if !ok || binary.BigEndian.Uint64(ext) > math.MaxInt64/2 {
				return
			}
			b.body, b.end = off+16, off+int64(binary.BigEndian.Uint64(ext))
		default:
			b.end = off + size
		}
		if b.end < b.body {
			return // damaged: a box smaller than its own header
		}
		fn(b)
		off = b.end
	}
}

// payload returns up to n bytes of a box's payload.
func (w *mp4Walker) payload(b mp4Box, n int64) []byte {
	return w.src.read(b.body, min(n, b.end-b.body))
}

// readMP4Movie walks the top-level boxes of src.
func readMP4Movie(src *source, now time.Time) mp4Movie {
	w := &mp4Walker{src: src, budget: maxBoxes}
	var m mp4Movie
	w.children(0, src.size, func(b mp4Box) {
		switch b.typ {
		case "moov":
			if !m.moov {
				m.moov, m.moovComplete = true, b.end <= src.size
				w.readMoov(b, &m, now)
			}
		case "mdat":
			m.mdatDeclared += b.end - b.body
			m.mdatPresent += max(min(b.end, src.size)-b.body, 0)
		}
	})
	return m
}

func (w *mp4Walker) readMoov(moov mp4Box, m *mp4Movie, now time.Time) {
	w.children(moov.body, moov.end, func(b mp4Box) {
		switch b.typ {
		case "mvhd":
			m.timescale, m.duration = timeHeader(w.payload(b, 32))
		case "trak":
			t := w.readTrak(b)
			if t.handler == "soun" && !m.audio {
				m.audio, m.track = true, t
			}
		case "mvex":
			w.children(b.body, b.end, func(c mp4Box) {
				if c.typ == "mehd" {
					p := w.payload(c, 12)
					switch {
					case len(p) >= 12 && p[0] == 1:
						m.fragmentDuration = binary.BigEndian.Uint64(p[4:])
					case len(p) >= 8 && p[0] == 0:
						m.fragmentDuration = uint64(binary.BigEndian.Uint32(p[4:]))
					}
				}
			})
		case "udta":
			w.children(b.body, b.end, func(c mp4Box) {
				if c.typ == "meta" {
					w.readMeta(c, &m.tags, now)
				}
			})
		case "meta":
			w.readMeta(b, &m.tags, now)
		}
	})
}

// timeHeader reads the timescale and duration of an mvhd or mdhd payload;
// a duration of all ones (unknown) is returned as 0.
func timeHeader(p []byte) (timescale, duration uint64) {
	switch {
	case len(p) >= 32 && p[0] == 1:
		timescale, duration = uint64(binary.BigEndian.Uint32(p[20:])), binary.BigEndian.Uint64(p[24:])
		if duration == math.MaxUint64 {
			duration = 0
		}
	case len(p) >= 20 && p[0] == 0:
		timescale, duration = uint64(binary.BigEndian.Uint32(p[12:])), uint64(binary.BigEndian.Uint32(p[16:]))
		if duration == math.MaxUint32 {
			duration = 0
		}
	}
	return timescale, duration
}

func (w *mp4Walker) readTrak(trak mp4Box) mp4Track {
	var t mp4Track
	w.children(trak.body, trak.end, func(b mp4Box) {
		if b.typ != "mdia" {
			return
		}
		w.children(b.body, b.end, func(c mp4Box) {
			switch c.typ {
			case "hdlr":
				if p := w.payload(c, 12); len(p) == 12 {
					t.handler = string(p[8:12])
				}
			case "mdhd":
				t.timescale, t.duration = timeHeader(w.payload(c, 32))
			case "minf":
				w.children(c.body, c.end, func(d mp4Box) {
					if d.typ == "stbl" {
						w.children(d.body, d.end, func(e mp4Box) {
							if e.typ == "stsd" {
								t.sampleRate, t.channels = w.readSampleEntry(e)
							}
						})
					}
				})
			}
		})
	})
	return t
}

// readSampleEntry reads the sample rate and channel count of the first
// entry of an stsd box. For AAC, the channel count of the entry may be a
// placeholder (2 for mono); the decoder configuration in esds is the truth.
func (w *mp4Walker) readSampleEntry(stsd mp4Box) (rate, channels int) {
	var entry *mp4Box
	// version, flags and entry count come before the entries
	w.children(stsd.body+8, stsd.end, func(b mp4Box) {
		if entry == nil {
			entry = &b
		}
	})
	if entry == nil {
		return 0, 0
	}
	// An audio sample entry: 6 reserved bytes, a data reference index, then
	// (version 0) 20 bytes of sound description; versions 1 and 2 (from
	// QuickTime) add 16 and 36 bytes.
	p := w.payload(*entry, 28)
	if len(p) < 28 {
		return 0, 0
	}
	rate, channels = int(binary.BigEndian.Uint32(p[24:])>>16), int(binary.BigEndian.Uint16(p[16:]))
	children := entry.body + 28
	switch binary.BigEndian.Uint16(p[8:]) {
	case 1:
		children += 16
	case 2:
		children += 36
	}
	w.children(children, entry.end, func(b mp4Box) {
		if b.typ == "esds" {
			if n := aacChannels(w.payload(b, 256)); n > 0 {
				channels = n
			}
		}
	})
	return rate, channels
}

// aacChannels reads the channel configuration of the AudioSpecificConfig
// in an esds payload (ISO/IEC 14496-1 descriptors, 14496-3 config); 0 when
// it is absent or defined elsewhere.
func aacChannels(p []byte) int {
	if len(p) < 4 {
		return 0
	}
	tag, es, ok := mp4Descriptor(p[4:]) // after version and flags
	if !ok || tag != 0x03 || len(es) < 3 {
		return 0
	}
	flags, at := es[2], 3
	if flags&0x80 != 0 { // depends on another stream
		at += 2
	}
	if flags&0x40 != 0 && at < len(es) { // URL
		at += 1 + int(es[at])
	}
	if flags&0x20 != 0 { // OCR stream
		at += 2
	}
	if at > len(es) {
		return 0
	}
	tag, dc, ok := mp4Descriptor(es[at:])
	if !ok || tag != 0x04 || len(dc) < 13 {
		return 0
	}
	tag, asc, ok := mp4Descriptor(dc[13:])
	if !ok || tag != 0x05 {
		return 0
	}
	r := bitReader{b: asc}
	if r.bits(5) == 31 { // audio object type escape
		r.bits(6)
	}
	if r.bits(4) == 15 { // an explicit 24-bit sampling frequency
		r.bits(24)
	}
	config := r.bits(4)
	switch {
	case r.short || config == 0:
		return 0
	case config == 7:
		return 8
	case config > 7:
		return 0
	}
	return int(config)
}

// mp4Descriptor reads the tag and body of the descriptor at the start of
// b; a body longer than b is cut to it.
func mp4Descriptor(b []byte) (tag byte, body []byte, ok bool) {
	if len(b) < 2 {
		return 0, nil, false
	}
	n, i := 0, 1
	for {
		if i >= len(b) || i > 4 {
			return 0, nil, false
		}
		c := b[i]
		i++
		n = n<<7 | int(c&0x7F)
		if c&0x80 == 0 {
			break
		}
	}
	return b[0], b[i:min(i+n, len(b))], true
}

// bitReader reads big-endian bit fields; short records reading past the end.
type bitReader struct {
	b     []byte
	pos   int // in bits
	short bool
}

func (r *bitReader) bits(n int) uint32 {
	var v uint32
	for range n {
		if r.pos/8 >= len(r.b) {
			r.short = true
			return 0
		}
		v = v<<1 | uint32(r.b[r.pos/8]>>(7-r.pos%8)&1)
		r.pos++
	}
	return v
}

// readMeta reads the title and date from a meta box's ilst.
func (w *mp4Walker) readMeta(meta mp4Box, t *tags, now time.Time) {
	// meta is a full box (version and flags first) in MP4, but a plain one
	// in QuickTime files: there, a child box's header comes at once.
	start := meta.body + 4
	if p := w.payload(meta, 8); len(p) == 8 && string(p[4:8]) == "hdlr" {
		start = meta.body
	}
	w.children(start, meta.end, func(b mp4Box) {
		if b.typ != "ilst" {
			return
		}
		w.children(b.body, b.end, func(item mp4Box) {
			switch item.typ {
			case "\xa9nam":
				t.setTitle(w.itemText(item))
			case "\xa9day":
				t.setDate(parseDate(w.itemText(item), now))
			}
		})
	})
}

// itemText is the text of an ilst item's data box.
func (w *mp4Walker) itemText(item mp4Box) string {
	var s string
	w.children(item.body, item.end, func(b mp4Box) {
		if b.typ != "data" || s != "" {
			return
		}
		p := w.payload(b, 8+maxTextFrame)
		if len(p) < 8 {
			return
		}
		switch binary.BigEndian.Uint32(p) & 0xFFFFFF { // well-known type
		case 1:
			s = string(p[8:])
		case 2:
			s = decodeUTF16(p[8:], true)
		}
	})
	return s
}

func probeMP4(src *source) (Info, error) {
	hdr, ok := src.full(0, 8)
	if !ok {
		return Info{}, errShort
	}
	if string(hdr[4:8]) != "ftyp" {
		return Info{}, errors.New("no ftyp box")
	}
	m := readMP4Movie(src, src.now)
	if !m.moov {
		return Info{}, errors.New("no moov box")
	}
	if !m.audio {
		return Info{}, errors.New("no audio track")
	}
	out := Info{SampleRate: m.track.sampleRate, Channels: m.track.channels}
	if out.SampleRate == 0 && m.track.timescale <= maxSampleRate {
		out.SampleRate = int(m.track.timescale) // the audio's timescale is its rate
	}
	m.tags.apply(&out)

	var d *float64
	switch {
	case m.timescale > 0 && m.duration > 0:
		d = ratio(m.duration, m.timescale)
	case m.timescale > 0 && m.fragmentDuration > 0:
		d = ratio(m.fragmentDuration, m.timescale)
	case m.track.timescale > 0 && m.track.duration > 0:
		d = ratio(m.track.duration, m.track.timescale)
	}
	if d != nil && m.mdatPresent < m.mdatDeclared {
		// Cut short: the media data present is that share of the whole.
		d = seconds(*d * float64(m.mdatPresent) / float64(m.mdatDeclared))
	}
	out.Duration = d
	return out, nil
}
