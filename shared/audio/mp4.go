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
	frags              mp4Fragments
}

// mp4Track is what one trak box says.
type mp4Track struct {
	handler             string
	id                  uint32 // tkhd's track_ID, which fragments name
	timescale, duration uint64
	entryRate, channels int        // from the sample entry
	aac                 *aacConfig // from the entry's esds, for AAC
	stts                *mp4Box    // the sample durations of the samples in moov
	sampleRate          int        // the rate it decodes to: see rate
}

// rate decides a track's sample rate. The sample entry's rate is a 16.16
// fixed-point number, which cannot hold rates above 65535 Hz (writers put 0
// or the overflowed value there), and which for HE-AAC is the rate of the
// AAC core, half the rate it decodes to. The AudioSpecificConfig says both
// right; without one, a timescale that the entry cannot hold is the rate.
func (t mp4Track) rate() int {
	switch {
	case t.aac != nil && t.aac.rate > 0:
		rate, _ := t.aac.output(t.timescale)
		return rate
	case t.timescale > 0xFFFF && t.timescale <= maxSampleRate:
		return int(t.timescale)
	case t.entryRate > 0:
		return t.entryRate
	case t.timescale <= maxSampleRate:
		return int(t.timescale) // the audio's timescale is its rate
	}
	return 0
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

// maxTopLevelBoxes bounds the top-level boxes visited: a fragmented file
// has two (moof, mdat) for each fragment, a fragment a second or so.
const maxTopLevelBoxes = 1 << 20

// readMP4Movie walks the top-level boxes of src.
func readMP4Movie(src *source, now time.Time) mp4Movie {
	w := &mp4Walker{src: src, budget: maxBoxes}
	top := &mp4Walker{src: src, budget: maxTopLevelBoxes}
	frag := &mp4Walker{src: src, budget: maxFragmentBoxes}
	var m mp4Movie
	afterMoof := false // the box before this one was a moof
	top.children(0, src.size, func(b mp4Box) {
		switch b.typ {
		case "moov":
			if !m.moov {
				m.moov, m.moovComplete = true, b.end <= src.size
				w.readMoov(b, &m, now)
			}
		case "moof":
			frag.readMoof(b, &m.frags)
			afterMoof = true
			return
		case "mdat":
			m.mdatDeclared += b.end - b.body
			present := max(min(b.end, src.size)-b.body, 0)
			m.mdatPresent += present
			if afterMoof && b.end > src.size {
				// The media data of the last fragment is cut short: so
				// is its duration.
				m.frags.scaleLast(float64(present) / float64(b.end-b.body))
			}
		}
		afterMoof = false
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
				if c.typ == "trex" {
					if p := w.payload(c, 16); len(p) == 16 {
						m.frags.setTrexDuration(binary.BigEndian.Uint32(p[4:]), binary.BigEndian.Uint32(p[12:]))
					}
				}
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
		switch b.typ {
		case "tkhd":
			p := w.payload(b, 24)
			switch {
			case len(p) >= 24 && p[0] == 1:
				t.id = binary.BigEndian.Uint32(p[20:])
			case len(p) >= 16 && p[0] == 0:
				t.id = binary.BigEndian.Uint32(p[12:])
			}
			return
		case "mdia":
		default:
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
							switch e.typ {
							case "stsd":
								w.readSampleEntry(e, &t)
							case "stts":
								t.stts = &e
							}
						})
					}
				})
			}
		})
	})
	t.sampleRate = t.rate()
	if t.aac != nil {
		if _, n := t.aac.output(t.timescale); n > 0 {
			t.channels = n
		}
	}
	return t
}

// readSampleEntry reads the sample rate and channel count of the first
// entry of an stsd box, and for AAC its decoder configuration in esds,
// which is the truth: the entry's channel count may be a placeholder (2
// for mono), its rate the core's of HE-AAC or no rate above 65535 Hz.
func (w *mp4Walker) readSampleEntry(stsd mp4Box, t *mp4Track) {
	var entry *mp4Box
	// version, flags and entry count come before the entries
	w.children(stsd.body+8, stsd.end, func(b mp4Box) {
		if entry == nil {
			entry = &b
		}
	})
	if entry == nil {
		return
	}
	// An audio sample entry: 6 reserved bytes, a data reference index, then
	// (version 0) 20 bytes of sound description; versions 1 and 2 (from
	// QuickTime) add 16 and 36 bytes.
	p := w.payload(*entry, 28)
	if len(p) < 28 {
		return
	}
	t.entryRate, t.channels = int(binary.BigEndian.Uint32(p[24:])>>16), int(binary.BigEndian.Uint16(p[16:]))
	children := entry.body + 28
	switch binary.BigEndian.Uint16(p[8:]) {
	case 1:
		children += 16
	case 2:
		children += 36
	}
	w.children(children, entry.end, func(b mp4Box) {
		if b.typ != "esds" || t.aac != nil {
			return
		}
		if c, ok := parseASC(esdsConfig(w.payload(b, 256))); ok {
			t.aac = &c
		}
	})
}

// esdsConfig returns the AudioSpecificConfig (ISO/IEC 14496-3) in an esds
// payload (ISO/IEC 14496-1 descriptors) of MPEG-4 or MPEG-2 AAC audio; nil
// when it is absent or the stream is something else (MP3 in MP4).
func esdsConfig(p []byte) []byte {
	if len(p) < 4 {
		return nil
	}
	tag, es, ok := mp4Descriptor(p[4:]) // after version and flags
	if !ok || tag != 0x03 || len(es) < 3 {
		return nil
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
		return nil
	}
	tag, dc, ok := mp4Descriptor(es[at:])
	if !ok || tag != 0x04 || len(dc) < 13 {
		return nil
	}
	switch dc[0] { // objectTypeIndication
	case 0x40, 0x66, 0x67, 0x68: // MPEG-4 audio; MPEG-2 AAC Main, LC, SSR
	default:
		return nil
	}
	tag, asc, ok := mp4Descriptor(dc[13:])
	if !ok || tag != 0x05 {
		return nil
	}
	return asc
}

// aacConfig is what an AudioSpecificConfig says of the rate and channels.
type aacConfig struct {
	objectType int // of the core: 2 for AAC-LC
	rate       int // the core's sampling rate
	extRate    int // the rate SBR decodes to, when signalled
	sbr        int // 1: SBR signalled; 0: signalled absent; -1: not said
	ps         int // parametric stereo, the same way
	channels   int // from the channel configuration; 0 when defined elsewhere
}

// Audio object types (ISO/IEC 14496-3, 1.5.1.1).
const (
	aotAACLC = 2
	aotSBR   = 5
	aotPS    = 29
	// maxImplicitSBRCore is the highest core rate SBR doubles.
	maxImplicitSBRCore = 24000
)

// parseASC reads an AudioSpecificConfig as ffmpeg does: the explicit,
// hierarchical signalling of SBR and PS (object type 5 or 29 first), and
// the backward-compatible one (a sync extension, 0x2b7, after the core's
// configuration).
func parseASC(asc []byte) (aacConfig, bool) {
	r := bitReader{b: asc}
	c := aacConfig{sbr: -1, ps: -1}
	c.objectType = aacObjectType(&r)
	c.rate = aacRate(&r)
	config := int(r.bits(4))
	if r.short || c.rate <= 0 || c.rate > maxSampleRate {
		return aacConfig{}, false
	}
	switch {
	case config >= 1 && config <= 6:
		c.channels = config
	case config == 7:
		c.channels = 8
	}
	if c.objectType == aotSBR || c.objectType == aotPS {
		if c.objectType == aotPS {
			c.ps = 1
		}
		c.sbr = 1
		c.extRate = aacRate(&r)
		c.objectType = aacObjectType(&r)
		if r.short || c.extRate > maxSampleRate {
			c.extRate, c.sbr = 0, -1
		}
		return c.settle(), true
	}
	for r.left() > 15 {
		if r.peek(11) != 0x2B7 {
			r.bits(1)
			continue
		}
		r.bits(11)
		if aacObjectType(&r) == aotSBR {
			c.sbr = int(r.bits(1))
			if c.sbr == 1 {
				c.extRate = aacRate(&r)
				if c.extRate == c.rate || c.extRate > maxSampleRate || r.short {
					c.extRate, c.sbr = 0, -1
				}
			}
			if r.left() > 11 && r.bits(11) == 0x548 {
				c.ps = int(r.bits(1))
			}
		}
		break
	}
	return c.settle(), true
}

// settle applies what the signalling implies: no PS without SBR, and PS
// only for a mono AAC-LC core.
func (c aacConfig) settle() aacConfig {
	if c.sbr == 0 || (c.ps == -1 && c.objectType != aotAACLC) || c.channels > 1 {
		c.ps = 0
	}
	return c
}

// output is the rate and channel count the stream decodes to (channels 0
// when the configuration leaves them to the sample entry). With SBR
// signalled, the rate is the extension's. Without a word on it (implicit
// signalling), SBR may still be there, found only by decoding, as ffmpeg
// does: an AAC-LC core of at most 24 kHz whose track counts time at twice
// its rate is taken for HE-AAC, as encoders write it. A mono core with SBR
// decodes to stereo unless PS is said to be absent: ffmpeg makes room for
// parametric stereo.
func (c aacConfig) output(timescale uint64) (rate, channels int) {
	rate, channels = c.rate, c.channels
	sbr := false
	switch {
	case c.sbr == 1 && c.extRate > 0:
		rate, sbr = c.extRate, true
	case c.sbr == -1 && c.objectType == aotAACLC && c.rate <= maxImplicitSBRCore && timescale == 2*uint64(c.rate):
		rate, sbr = 2*c.rate, true
	}
	if channels == 1 && (c.ps == 1 || sbr && c.ps == -1) {
		channels = 2
	}
	return rate, channels
}

// aacObjectType reads an audio object type, with its escape.
func aacObjectType(r *bitReader) int {
	t := int(r.bits(5))
	if t == 31 {
		t = 32 + int(r.bits(6))
	}
	return t
}

// aacRate reads a sampling frequency index, or the explicit 24-bit rate
// that index 15 announces; 0 for a reserved index.
func aacRate(r *bitReader) int {
	rates := [13]int{96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350}
	i := r.bits(4)
	switch {
	case i == 15:
		return int(r.bits(24))
	case int(i) < len(rates):
		return rates[i]
	}
	return 0
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

// left is the number of bits not read yet.
func (r *bitReader) left() int { return len(r.b)*8 - r.pos }

// peek returns the next n bits without reading them.
func (r *bitReader) peek(n int) uint32 {
	saved := *r
	v := r.bits(n)
	*r = saved
	return v
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

// Fragmented MP4 (what MediaRecorder writes, and ffmpeg's frag_keyframe):
// samples after the ones in moov come in moof boxes, each with a traf per
// track whose trun boxes list the samples. A sample's duration is in the
// trun, or else the tfhd's default, or else the trex's in moov.

const (
	// maxFragmentBoxes bounds the boxes visited inside all moof boxes.
	maxFragmentBoxes = 1 << 22
	// maxFragmentTracks bounds the tracks whose fragments are counted.
	maxFragmentTracks = 16
)

// mp4Fragments adds up the durations of the samples in moof boxes, for
// each track, in the track's timescale.
type mp4Fragments struct {
	seen   bool // a moof with a trun was found
	tracks []fragTrack
	last   []fragTrack // what the last moof added
}

type fragTrack struct {
	id            uint32
	explicit      float64 // durations given in trun or tfhd
	trexSamples   float64 // samples whose duration is trex's default
	trexDuration  uint32
	trexDurationK bool // trexDuration was found
}

// track returns the totals of track id in list, added if need be; nil
// when there are too many tracks.
func fragTrackIn(list *[]fragTrack, id uint32) *fragTrack {
	for i := range *list {
		if (*list)[i].id == id {
			return &(*list)[i]
		}
	}
	if len(*list) >= maxFragmentTracks {
		return nil
	}
	*list = append(*list, fragTrack{id: id})
	return &(*list)[len(*list)-1]
}

func (f *mp4Fragments) setTrexDuration(id, d uint32) {
	if t := fragTrackIn(&f.tracks, id); t != nil {
		t.trexDuration, t.trexDurationK = d, true
	}
}

// add counts samples of track id: with a known duration in total, or n
// that take trex's default.
func (f *mp4Fragments) add(id uint32, total, n float64) {
	f.seen = true
	for _, list := range []*[]fragTrack{&f.tracks, &f.last} {
		if t := fragTrackIn(list, id); t != nil {
			t.explicit += total
			t.trexSamples += n
		}
	}
}

// scaleLast keeps only the share present of what the last moof added.
func (f *mp4Fragments) scaleLast(present float64) {
	for _, l := range f.last {
		if t := fragTrackIn(&f.tracks, l.id); t != nil {
			t.explicit -= l.explicit * (1 - present)
			t.trexSamples -= l.trexSamples * (1 - present)
		}
	}
	f.last = f.last[:0]
}

// duration is the total of track id's samples in fragments, in its
// timescale; false when it has none or their durations are unknown.
func (f *mp4Fragments) duration(id uint32) (float64, bool) {
	for _, t := range f.tracks {
		if t.id != id {
			continue
		}
		d := t.explicit
		if t.trexSamples > 0 {
			if !t.trexDurationK {
				return 0, false
			}
			d += t.trexSamples * float64(t.trexDuration)
		}
		return d, t.explicit > 0 || t.trexSamples > 0
	}
	return 0, false
}

// readMoof adds up the samples of each traf in a moof.
func (w *mp4Walker) readMoof(moof mp4Box, f *mp4Fragments) {
	f.last = f.last[:0]
	if moof.end > w.src.size {
		return // cut short: its media data is not in the file
	}
	w.children(moof.body, moof.end, func(traf mp4Box) {
		if traf.typ != "traf" {
			return
		}
		var (
			id         uint32
			hasTfhd    bool
			defDur     uint32
			hasDefault bool
		)
		w.children(traf.body, traf.end, func(b mp4Box) {
			switch b.typ {
			case "tfhd":
				p := w.payload(b, 40)
				if len(p) < 8 {
					return
				}
				flags := be24(p[1:])
				id, hasTfhd = binary.BigEndian.Uint32(p[4:]), true
				at := 8
				if flags&0x01 != 0 { // base data offset
					at += 8
				}
				if flags&0x02 != 0 { // sample description index
					at += 4
				}
				if flags&0x08 != 0 && len(p) >= at+4 { // default sample duration
					defDur, hasDefault = binary.BigEndian.Uint32(p[at:]), true
				}
			case "trun":
				if !hasTfhd {
					return // tfhd comes first in a traf
				}
				total, n := w.trunDurations(b)
				if n > 0 && hasDefault {
					total, n = total+n*float64(defDur), 0
				}
				f.add(id, total, n)
			}
		})
	})
}

// trunDurations reads a trun: the sum of the durations it lists, and the
// number of samples it lists without one (all or none).
func (w *mp4Walker) trunDurations(trun mp4Box) (total, without float64) {
	p := w.payload(trun, 8)
	if len(p) < 8 {
		return 0, 0
	}
	flags := be24(p[1:])
	count := int64(binary.BigEndian.Uint32(p[4:]))
	if flags&0x100 == 0 { // no sample durations
		return 0, float64(count)
	}
	at := int64(8)
	if flags&0x01 != 0 { // data offset
		at += 4
	}
	if flags&0x04 != 0 { // first sample flags
		at += 4
	}
	entry := int64(4) // the duration, then what else each sample has
	for _, bit := range []uint32{0x200, 0x400, 0x800} {
		if flags&bit != 0 {
			entry += 4
		}
	}
	// Only the entries the box and the file hold, read a slice at a time.
	count = min(count, (trun.end-trun.body-at)/entry)
	const perRead = 4096
	for done := int64(0); done < count; {
		n := min(count-done, perRead)
		b := w.src.read(trun.body+at+done*entry, n*entry)
		got := int64(len(b)) / entry
		for i := range got {
			total += float64(binary.BigEndian.Uint32(b[i*entry:]))
		}
		if got < n {
			break
		}
		done += n
	}
	return total, 0
}

// sttsDuration adds up the sample durations of an stts box: the samples
// in moov. false when the box is unreadable.
func (w *mp4Walker) sttsDuration(stts mp4Box) (uint64, bool) {
	p := w.payload(stts, 8)
	if len(p) < 8 {
		return 0, false
	}
	entries := min(int64(binary.BigEndian.Uint32(p[4:])), (stts.end-stts.body-8)/8)
	var total uint64
	const perRead = 4096
	for done := int64(0); done < entries; {
		n := min(entries-done, perRead)
		b := w.src.read(stts.body+8+done*8, n*8)
		for i := 0; i+8 <= len(b); i += 8 {
			total += uint64(binary.BigEndian.Uint32(b[i:])) * uint64(binary.BigEndian.Uint32(b[i+4:]))
		}
		if int64(len(b)) < n*8 {
			break
		}
		done += n
	}
	return total, true
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
	m.tags.apply(&out)
	out.Duration = m.audioDuration(src)
	return out, nil
}

// audioDuration is the duration of the movie, or of its sound track where
// the movie header does not say.
func (m *mp4Movie) audioDuration(src *source) *float64 {
	w := &mp4Walker{src: src, budget: maxBoxes}
	t := m.track
	cut := m.mdatPresent < m.mdatDeclared
	if fragments, ok := m.frags.duration(t.id); ok && t.timescale > 0 {
		// Fragmented: the samples in moov (usually none), then those in
		// the fragments. A whole file's mehd says the same, as ffprobe
		// reads it; a cut file's does not.
		if m.timescale > 0 && m.fragmentDuration > 0 && !cut {
			return ratio(m.fragmentDuration, m.timescale)
		}
		var inMoov uint64
		if t.stts != nil {
			inMoov, _ = w.sttsDuration(*t.stts)
		}
		return seconds((float64(inMoov) + fragments) / float64(t.timescale))
	}
	var d *float64
	switch {
	case m.timescale > 0 && m.duration > 0:
		d = ratio(m.duration, m.timescale)
	case m.timescale > 0 && m.fragmentDuration > 0:
		d = ratio(m.fragmentDuration, m.timescale)
	case t.timescale > 0 && t.duration > 0:
		d = ratio(t.duration, t.timescale)
	case t.timescale > 0 && t.stts != nil:
		// No header says: the sample durations do.
		if total, ok := w.sttsDuration(*t.stts); ok && total > 0 {
			d = ratio(total, t.timescale)
		}
	}
	if d != nil && cut {
		// Cut short: the media data present is that share of the whole.
		d = seconds(*d * float64(m.mdatPresent) / float64(m.mdatDeclared))
	}
	return d
}
