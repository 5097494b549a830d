package audio

import (
	"encoding/binary"
	"errors"
	"math"
)

// AIFF and AIFF-C: big-endian IFF chunks. COMM gives the frame count and
// the sample rate as an 80-bit extended float; SSND holds the audio. An
// ID3v2 tag in front of the FORM header is skipped, as in WAV.

// maxSampleRate is far above any real recording; a larger rate in a header
// is damage.
const maxSampleRate = 1 << 22

func probeAIFF(src *source) (Info, error) {
	var leading tags
	start := readLeadingID3v2(src, &leading)
	hdr, ok := src.full(start, 12)
	if !ok {
		return Info{}, errShort
	}
	kind := string(hdr[8:12])
	if string(hdr[:4]) != "FORM" || (kind != "AIFF" && kind != "AIFC") {
		return Info{}, errors.New("not an AIFF file")
	}

	var (
		comm          []byte
		compression         = "NONE"
		ssndStart     int64 = -1
		ssndBytes     int64
		title, id3tag tags
	)
	off := start + 12
	for range maxChunks {
		ch, ok := src.full(off, 8)
		if !ok {
			break
		}
		id, size := string(ch[:4]), int64(binary.BigEndian.Uint32(ch[4:]))
		body := off + 8
		switch id {
		case "COMM":
			comm = src.read(body, min(size, 22))
			if len(comm) < 18 {
				return Info{}, errors.New("COMM chunk is cut short")
			}
			if kind == "AIFC" && len(comm) >= 22 {
				compression = string(comm[18:22])
			}
		case "SSND":
			// An offset and a block size, then the sample frames.
			present := min(size, src.size-body)
			skip := int64(8)
			if b, ok := src.full(body, 4); ok {
				skip += int64(binary.BigEndian.Uint32(b))
			}
			skip = min(skip, present)
			ssndStart, ssndBytes = body+skip, present-skip
		case "NAME":
			title.setTitle(string(src.read(body, min(size, maxTextFrame))))
		case "ID3 ", "id3 ":
			readID3v2(src, body, body+size, &id3tag, src.now)
		}
		off = body + size + size&1
	}
	if comm == nil {
		return Info{}, errors.New("no COMM chunk")
	}

	channels := int(binary.BigEndian.Uint16(comm))
	frames := int64(binary.BigEndian.Uint32(comm[2:]))
	bits := int(binary.BigEndian.Uint16(comm[6:]))
	rate := extendedFloat(comm[8:18])

	t := title
	t.setTitle(id3tag.title)
	t.setDate(id3tag.date)
	t.setTitle(leading.title)
	t.setDate(leading.date)
	out := Info{Channels: channels}
	t.apply(&out)
	if ssndStart >= 0 {
		out.PCM = aiffPCM(compression, channels, bits, ssndStart, ssndBytes)
	} else {
		frames = 0 // no sound data chunk: no audio
	}
	if rate <= 0 || rate > maxSampleRate {
		return out, nil // a damaged rate: no duration
	}
	out.SampleRate = int(math.Round(rate))
	perFrame := aiffFrameBytes(compression, channels, bits)
	switch {
	case perFrame > 0 && frames == 0 && ssndBytes > 0:
		// A recorder that never finished the header: the frames are
		// what the sound data holds.
		frames = ssndBytes / perFrame
	case perFrame > 0:
		frames = min(frames, ssndBytes/perFrame)
	case frames == 0 && ssndBytes > 0:
		return out, nil // compressed, and no count: unknown, not 0
	}
	if frames == 0 && ssndBytes > 0 {
		return out, nil // data, but a damaged header counts no frame of it
	}
	out.Duration = seconds(float64(frames) / rate)
	return out, nil
}

// aiffFrameBytes is the size of one sample frame for the uncompressed
// encodings, 0 for compressed ones (whose frame count is trusted as is).
func aiffFrameBytes(compression string, channels, bits int) int64 {
	switch compression {
	case "NONE", "twos", "sowt", "raw ", "in24", "in32", "fl32", "FL32", "fl64", "FL64":
		return int64(channels) * int64((bits+7)/8)
	case "ulaw", "ULAW", "alaw", "ALAW":
		return int64(channels)
	}
	return 0
}

// aiffPCM locates the samples of an uncompressed SSND chunk; nil for
// compressed encodings.
func aiffPCM(compression string, channels, bits int, offset, length int64) *PCM {
	if channels < 1 || bits < 1 || bits > 64 {
		return nil
	}
	p := &PCM{Offset: offset, Length: length, Bits: (bits + 7) / 8 * 8, Channels: channels, BigEndian: true}
	switch compression {
	case "NONE", "twos", "in24", "in32":
	case "sowt":
		p.BigEndian = false
	case "raw ":
		p.Unsigned = true
	case "fl32", "FL32", "fl64", "FL64":
		p.Float = true
		if p.Bits != 32 && p.Bits != 64 {
			return nil
		}
	default:
		return nil
	}
	return p
}

// extendedFloat decodes an IEEE 754 80-bit extended float (sign, 15-bit
// exponent, 64-bit mantissa with an explicit integer bit), as AIFF stores
// its sample rate. Damaged values give 0 or a number the caller refuses.
func extendedFloat(b []byte) float64 {
	exp := int(binary.BigEndian.Uint16(b) & 0x7FFF)
	mant := binary.BigEndian.Uint64(b[2:10])
	if binary.BigEndian.Uint16(b)&0x8000 != 0 || exp == 0 || exp == 0x7FFF || mant == 0 {
		return 0
	}
	return math.Ldexp(float64(mant), exp-16383-63)
}
