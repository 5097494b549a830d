package audio

import (
	"bytes"
	"encoding/binary"
	"math"
	"runtime/metrics"
	"testing"
)

// Builders of small files in each container, for the cases the fixtures do
// not cover: damaged sizes, other versions, other encodings.

// chunk is one RIFF or IFF chunk. size, when set, replaces the true size in
// the header (to build damaged files).
type chunk struct {
	id   string
	data []byte
	size *uint32
}

func claim(n uint32) *uint32 { return &n }

// riffFile builds a RIFF (or RF64) WAVE file; riffSize, when set, replaces
// the true RIFF size.
func riffFile(magic string, riffSize *uint32, chunks ...chunk) []byte {
	var body bytes.Buffer
	body.WriteString("WAVE")
	for _, c := range chunks {
		size := uint32(len(c.data))
		if c.size != nil {
			size = *c.size
		}
		body.WriteString(c.id)
		binary.Write(&body, binary.LittleEndian, size)
		body.Write(c.data)
		if len(c.data)%2 == 1 {
			body.WriteByte(0)
		}
	}
	size := uint32(body.Len())
	if riffSize != nil {
		size = *riffSize
	}
	var out bytes.Buffer
	out.WriteString(magic)
	binary.Write(&out, binary.LittleEndian, size)
	out.Write(body.Bytes())
	return out.Bytes()
}

// fmtChunk is a WAVE fmt chunk for the given encoding.
func fmtChunk(tag uint16, channels, rate, bits int) chunk {
	align := channels * bits / 8
	b := binary.LittleEndian.AppendUint16(nil, tag)
	b = binary.LittleEndian.AppendUint16(b, uint16(channels))
	b = binary.LittleEndian.AppendUint32(b, uint32(rate))
	b = binary.LittleEndian.AppendUint32(b, uint32(rate*align))
	b = binary.LittleEndian.AppendUint16(b, uint16(align))
	b = binary.LittleEndian.AppendUint16(b, uint16(bits))
	return chunk{id: "fmt ", data: b}
}

// infoList is a LIST/INFO chunk of the given sub-chunks, id then text.
func infoList(pairs ...string) chunk {
	b := []byte("INFO")
	for i := 0; i+1 < len(pairs); i += 2 {
		v := append([]byte(pairs[i+1]), 0)
		b = append(b, pairs[i]...)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(v)))
		b = append(b, v...)
		if len(v)%2 == 1 {
			b = append(b, 0)
		}
	}
	return chunk{id: "LIST", data: b}
}

// bextChunk is a minimal Broadcast Wave bext chunk with an OriginationDate.
func bextChunk(date string) chunk {
	b := make([]byte, 602)
	copy(b[bextDateAt:], date)
	return chunk{id: "bext", data: b}
}

// iffFile builds a big-endian FORM file of the given kind (AIFF, AIFC).
func iffFile(kind string, chunks ...chunk) []byte {
	var body bytes.Buffer
	body.WriteString(kind)
	for _, c := range chunks {
		size := uint32(len(c.data))
		if c.size != nil {
			size = *c.size
		}
		body.WriteString(c.id)
		binary.Write(&body, binary.BigEndian, size)
		body.Write(c.data)
		if len(c.data)%2 == 1 {
			body.WriteByte(0)
		}
	}
	out := []byte("FORM")
	out = binary.BigEndian.AppendUint32(out, uint32(body.Len()))
	return append(out, body.Bytes()...)
}

// commChunk is an AIFF COMM chunk; compression is added for AIFC.
func commChunk(channels int, frames uint32, bits int, rate float64, compression string) chunk {
	b := binary.BigEndian.AppendUint16(nil, uint16(channels))
	b = binary.BigEndian.AppendUint32(b, frames)
	b = binary.BigEndian.AppendUint16(b, uint16(bits))
	b = append(b, extended80(rate)...)
	if compression != "" {
		b = append(b, compression...)
		b = append(b, 0, 0) // an empty Pascal-string name, padded
	}
	return chunk{id: "COMM", data: b}
}

// ssndChunk is an SSND chunk holding n bytes of silence.
func ssndChunk(n int) chunk {
	return chunk{id: "SSND", data: make([]byte, 8+n)}
}

// extended80 encodes a positive rate as an 80-bit extended float.
func extended80(v float64) []byte {
	frac, exp := math.Frexp(v) // v = frac × 2^exp, 0.5 <= frac < 1
	mant := uint64(frac * (1 << 64))
	b := binary.BigEndian.AppendUint16(nil, uint16(exp-1+16383))
	return binary.BigEndian.AppendUint64(b, mant)
}

// id3Frame builds one ID3v2 frame of the given version, flags and content.
func id3Frame(version byte, id string, flags uint16, content []byte) []byte {
	var b []byte
	switch version {
	case 2:
		b = append([]byte(id), byte(len(content)>>16), byte(len(content)>>8), byte(len(content)))
		return append(b, content...)
	case 3:
		b = binary.BigEndian.AppendUint32([]byte(id), uint32(len(content)))
	default:
		b = append([]byte(id), syncsafeBytes(len(content))...)
	}
	b = binary.BigEndian.AppendUint16(b, flags)
	return append(b, content...)
}

// textFrame is a text frame's content: encoding byte, then the text.
func textFrame(enc byte, text []byte) []byte {
	return append([]byte{enc}, text...)
}

func latin1Text(s string) []byte { return textFrame(0, []byte(s)) }

// id3Tag builds an ID3v2 tag of the given version and header flags.
func id3Tag(version, flags byte, frames ...[]byte) []byte {
	body := bytes.Join(frames, nil)
	b := append([]byte("ID3"), version, 0, flags)
	b = append(b, syncsafeBytes(len(body))...)
	return append(b, body...)
}

func syncsafeBytes(n int) []byte {
	return []byte{byte(n >> 21 & 0x7F), byte(n >> 14 & 0x7F), byte(n >> 7 & 0x7F), byte(n & 0x7F)}
}

// box builds an MP4 box.
func box(typ string, payload ...[]byte) []byte {
	body := bytes.Join(payload, nil)
	b := binary.BigEndian.AppendUint32(nil, uint32(8+len(body)))
	b = append(b, typ...)
	return append(b, body...)
}

// fullBox builds an MP4 full box (version and flags first).
func fullBox(typ string, version byte, payload ...[]byte) []byte {
	return box(typ, append([]byte{version, 0, 0, 0}, bytes.Join(payload, nil)...))
}

func ftyp(major string, compatible ...string) []byte {
	p := append([]byte(major), 0, 0, 0, 0)
	for _, c := range compatible {
		p = append(p, c...)
	}
	return box("ftyp", p)
}

// mvhd is a version-0 movie header.
func mvhd(timescale, duration uint32) []byte {
	p := make([]byte, 96)
	binary.BigEndian.PutUint32(p[8:], timescale)
	binary.BigEndian.PutUint32(p[12:], duration)
	return fullBox("mvhd", 0, p)
}

// trak is a track of the given handler ("soun", "vide").
func trak(handler string) []byte {
	hdlr := fullBox("hdlr", 0, make([]byte, 4), []byte(handler), make([]byte, 13))
	mdhd := fullBox("mdhd", 0, make([]byte, 8), binary.BigEndian.AppendUint32(nil, 44100), make([]byte, 8))
	entry := make([]byte, 28)
	binary.BigEndian.PutUint16(entry[16:], 2)         // channels
	binary.BigEndian.PutUint32(entry[24:], 44100<<16) // 16.16 rate
	stsd := fullBox("stsd", 0, binary.BigEndian.AppendUint32(nil, 1), box("mp4a", entry))
	return box("trak", box("mdia", mdhd, hdlr, box("minf", box("stbl", stsd))))
}

// soundTrak is a sound track with a track ID, an mdhd timescale, and an
// mp4a sample entry of the given 16.16 rate field and channel count whose
// esds holds asc (none when nil); more boxes go into stbl (stts).
func soundTrak(id, timescale, rateField uint32, channels uint16, asc []byte, stbl ...[]byte) []byte {
	tkhd := fullBox("tkhd", 0, make([]byte, 8), binary.BigEndian.AppendUint32(nil, id), make([]byte, 68))
	hdlr := fullBox("hdlr", 0, make([]byte, 4), []byte("soun"), make([]byte, 13))
	mdhd := fullBox("mdhd", 0, make([]byte, 8), binary.BigEndian.AppendUint32(nil, timescale), make([]byte, 8))
	entry := make([]byte, 28)
	binary.BigEndian.PutUint16(entry[6:], 1) // data reference index
	binary.BigEndian.PutUint16(entry[16:], channels)
	binary.BigEndian.PutUint16(entry[18:], 16)
	binary.BigEndian.PutUint32(entry[24:], rateField)
	var esds []byte
	if asc != nil {
		esds = esdsBox(asc)
	}
	stsd := fullBox("stsd", 0, binary.BigEndian.AppendUint32(nil, 1), box("mp4a", entry, esds))
	return box("trak", tkhd, box("mdia", mdhd, hdlr, box("minf", box("stbl", append([][]byte{stsd}, stbl...)...))))
}

// esdsBox is an esds box of MPEG-4 audio with the AudioSpecificConfig asc,
// its descriptor lengths in the four-byte form ffmpeg writes.
func esdsBox(asc []byte) []byte {
	desc := func(tag byte, body ...[]byte) []byte {
		b := bytes.Join(body, nil)
		n := len(b)
		return append([]byte{tag, 0x80 | byte(n>>21&0x7F), 0x80 | byte(n>>14&0x7F), 0x80 | byte(n>>7&0x7F), byte(n & 0x7F)}, b...)
	}
	decoderConfig := append([]byte{0x40, 0x15}, make([]byte, 11)...) // MPEG-4 audio
	es := desc(0x03, []byte{0, 1, 0}, desc(0x04, decoderConfig, desc(0x05, asc)), desc(0x06, []byte{2}))
	return fullBox("esds", 0, es)
}

// ascBits packs bit fields, each {width, value}, into an AudioSpecificConfig.
func ascBits(fields ...[2]int) []byte {
	var out []byte
	var acc, n int
	for _, f := range fields {
		for i := f[0] - 1; i >= 0; i-- {
			acc = acc<<1 | f[1]>>i&1
			if n++; n == 8 {
				out, acc, n = append(out, byte(acc)), 0, 0
			}
		}
	}
	if n > 0 {
		out = append(out, byte(acc<<(8-n)))
	}
	return out
}

// stts is a time-to-sample box of {count, delta} entries.
func stts(entries ...[2]uint32) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(entries)))
	for _, e := range entries {
		b = binary.BigEndian.AppendUint32(b, e[0])
		b = binary.BigEndian.AppendUint32(b, e[1])
	}
	return fullBox("stts", 0, b)
}

// trex is a track extends box with a default sample duration.
func trex(id, duration uint32) []byte {
	b := binary.BigEndian.AppendUint32(nil, id)
	b = binary.BigEndian.AppendUint32(b, 1)
	b = binary.BigEndian.AppendUint32(b, duration)
	return fullBox("trex", 0, b, make([]byte, 8))
}

// fragment is a moof of one traf per track, then an mdat of mdatBytes.
// Each traf is a tfhd and trun from fragTraf.
func fragment(mdatBytes int, trafs ...[]byte) []byte {
	return concat(box("moof", fullBox("mfhd", 0, []byte{0, 0, 0, 1}), bytes.Join(trafs, nil)), box("mdat", make([]byte, mdatBytes)))
}

// fragTraf is a traf for track id: the tfhd gives a default duration when
// defaultDuration > 0; the trun lists durations when given, else count
// samples without one.
func fragTraf(id, defaultDuration uint32, count int, durations ...uint32) []byte {
	tfhd := binary.BigEndian.AppendUint32(nil, id)
	var flags uint32 = 0x020000 // default-base-is-moof
	if defaultDuration > 0 {
		flags |= 0x08
		tfhd = binary.BigEndian.AppendUint32(tfhd, defaultDuration)
	}
	tfhdBox := box("tfhd", binary.BigEndian.AppendUint32(nil, flags), tfhd)
	var trunFlags uint32 = 0x000001 | 0x000200 // data offset, sample sizes
	if durations != nil {
		trunFlags |= 0x000100
		count = len(durations)
	}
	trun := binary.BigEndian.AppendUint32(nil, trunFlags)
	trun = binary.BigEndian.AppendUint32(trun, uint32(count))
	trun = binary.BigEndian.AppendUint32(trun, 0) // data offset
	for i := range count {
		if durations != nil {
			trun = binary.BigEndian.AppendUint32(trun, durations[i])
		}
		trun = binary.BigEndian.AppendUint32(trun, 100) // sample size
	}
	return box("traf", tfhdBox, box("trun", trun))
}

// mpeg1Frame is an MPEG-1 Layer III frame, 44.1 kHz mono, of the bitrate
// with the given index (9: 128 kbit/s), its audio all zeros.
func mpeg1Frame(bitrateIndex byte) []byte {
	h := []byte{0xFF, 0xFB, bitrateIndex << 4, 0xC4}
	f, ok := parseMPEGFrame(h)
	if !ok {
		panic("bad frame header")
	}
	return append(h, make([]byte, f.length-4)...)
}

// mpeg1Frames is the frames of the given bitrate indexes, one after another.
func mpeg1Frames(bitrateIndexes ...byte) []byte {
	var b []byte
	for _, i := range bitrateIndexes {
		b = append(b, mpeg1Frame(i)...)
	}
	return b
}

// ilstItem is an iTunes-style tag item with a UTF-8 data box.
func ilstItem(typ, text string) []byte {
	return box(typ, box("data", []byte{0, 0, 0, 1, 0, 0, 0, 0}, []byte(text)))
}

// oggPageBytes builds an Ogg page holding the given packets whole.
func oggPageBytes(flags byte, granule uint64, serial uint32, packets ...[]byte) []byte {
	var lacing, data []byte
	for _, p := range packets {
		n := len(p)
		for n >= 255 {
			lacing = append(lacing, 255)
			n -= 255
		}
		lacing = append(lacing, byte(n))
		data = append(data, p...)
	}
	b := append([]byte("OggS"), 0, flags)
	b = binary.LittleEndian.AppendUint64(b, granule)
	b = binary.LittleEndian.AppendUint32(b, serial)
	b = binary.LittleEndian.AppendUint32(b, 0) // sequence
	b = binary.LittleEndian.AppendUint32(b, 0) // checksum, set below
	b = append(b, byte(len(lacing)))
	b = append(b, lacing...)
	b = append(b, data...)
	binary.LittleEndian.PutUint32(b[22:], oggCRC(b))
	return b
}

// leastAllocatedBy is the least of allocatedBy over a few runs of f: the
// count is of the whole process, and another goroutine's allocations (the
// fuzzing engine's, the test runner's) can land in one run, not in all.
func leastAllocatedBy(f func()) uint64 {
	n := allocatedBy(f)
	for range 2 {
		n = min(n, allocatedBy(f))
	}
	return n
}

// allocatedBy reports the bytes of heap f allocates (to within a span or
// so: small objects are counted as their spans are handed out).
func allocatedBy(f func()) uint64 {
	sample := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(sample)
	before := sample[0].Value.Uint64()
	f()
	metrics.Read(sample)
	return sample[0].Value.Uint64() - before
}

func TestExtended80(t *testing.T) {
	for _, rate := range []float64{8000, 11025, 22050, 44100, 48000, 96000, 192000} {
		if got := extendedFloat(extended80(rate)); got != rate {
			t.Errorf("extendedFloat(extended80(%v)): got %v, want %v", rate, got, rate)
		}
	}
	for name, b := range map[string][]byte{
		"negative":    {0xC0, 0x0E, 0xAC, 0x44, 0, 0, 0, 0, 0, 0},
		"infinity":    {0x7F, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0},
		"zero":        {0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
		"no mantissa": {0x40, 0x0E, 0, 0, 0, 0, 0, 0, 0, 0},
	} {
		if got := extendedFloat(b); got != 0 {
			t.Errorf("%s: got %v, want 0", name, got)
		}
	}
}
