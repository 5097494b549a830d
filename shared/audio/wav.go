package audio

import (
	"encoding/binary"
	"errors"
	"time"
)

// WAV is RIFF/WAVE (and Broadcast Wave, which adds a bext chunk), or its
// 64-bit forms RF64 and BW64, whose sizes live in a ds64 chunk. Some
// taggers put an ID3v2 tag in front of the RIFF header, which is skipped.

const (
	// maxChunks bounds the chunks walked in a RIFF or AIFF file.
	maxChunks = 4096
	// maxInfoList bounds the bytes read from a LIST/INFO chunk.
	maxInfoList = 64 << 10
	// bextDateAt is where OriginationDate starts in a bext chunk: after
	// Description (256), Originator (32) and OriginatorReference (32).
	bextDateAt = 320
	// sizeUnknown marks a 32-bit size kept in ds64 (RF64) or never written.
	sizeUnknown = 0xFFFFFFFF
)

// wavFormat is what the fmt chunk says.
type wavFormat struct {
	tag        uint16 // 1 PCM, 3 float, 6 A-law, 7 mu-law, 0xFFFE extensible, ...
	channels   int
	sampleRate int
	byteRate   int
	blockAlign int
	bits       int // bits per sample; 0 when the chunk is too short to say
}

// uncompressed reports whether every block holds exactly one sample frame,
// so that the data size alone gives the duration.
func (f wavFormat) uncompressed() bool {
	switch f.tag {
	case 1, 3, 6, 7:
		return true
	}
	return false
}

func probeWAV(src *source) (Info, error) {
	var leading tags
	start := readLeadingID3v2(src, &leading)
	hdr, ok := src.full(start, 12)
	if !ok {
		return Info{}, errShort
	}
	magic := string(hdr[:4])
	if (magic != "RIFF" && magic != "RF64" && magic != "BW64") || string(hdr[8:12]) != "WAVE" {
		return Info{}, errors.New("not a RIFF/WAVE file")
	}
	riffSize := binary.LittleEndian.Uint32(hdr[4:])

	var (
		format        *wavFormat
		dataStart     int64 = -1
		dataBytes     int64
		dataDeclared  int64
		ds64Data      int64 = -1
		factFrames    int64 = -1
		info          tags
		bextDate, id3 tags
	)
	off := start + 12
	for range maxChunks {
		ch, ok := src.full(off, 8)
		if !ok {
			break
		}
		id, size := string(ch[:4]), int64(binary.LittleEndian.Uint32(ch[4:]))
		body := off + 8
		switch id {
		case "ds64":
			if b, ok := src.full(body, 16); ok {
				ds64Data = int64(min(binary.LittleEndian.Uint64(b[8:16]), uint64(src.size)))
			}
		case "fmt ":
			b := src.read(body, min(size, 40))
			if len(b) < 14 { // WAVEFORMAT; PCMWAVEFORMAT adds the bits per sample
				return Info{}, errors.New("fmt chunk is cut short")
			}
			f := wavFormat{
				tag:        binary.LittleEndian.Uint16(b),
				channels:   int(binary.LittleEndian.Uint16(b[2:])),
				sampleRate: int(binary.LittleEndian.Uint32(b[4:])),
				byteRate:   int(binary.LittleEndian.Uint32(b[8:])),
				blockAlign: int(binary.LittleEndian.Uint16(b[12:])),
			}
			if len(b) >= 16 {
				f.bits = int(binary.LittleEndian.Uint16(b[14:]))
			}
			if f.tag == 0xFFFE && len(b) >= 26 { // WAVE_FORMAT_EXTENSIBLE: the sub-format's tag
				f.tag = binary.LittleEndian.Uint16(b[24:])
			}
			format = &f
		case "fact":
			if b, ok := src.full(body, 4); ok {
				factFrames = int64(binary.LittleEndian.Uint32(b))
			}
		case "data":
			dataStart = body
			switch {
			case size == sizeUnknown && ds64Data >= 0:
				size = ds64Data
			case size == 0 && (riffSize == 0 || !chunkFollows(src, body)):
				// A recorder that stopped before finishing the header
				// leaves the size zero; the audio runs to the end (as
				// ffmpeg reads it), unless another chunk follows at once.
				size = src.size - body
			}
			dataDeclared = size
			dataBytes = min(size, src.size-body)
		case "LIST":
			if b, ok := src.full(body, 4); ok && string(b) == "INFO" {
				readRIFFInfo(src.read(body+4, min(size-4, maxInfoList)), &info, src.now)
			}
		case "bext":
			if size >= bextDateAt+10 {
				if b, ok := src.full(body+bextDateAt, 10); ok {
					bextDate.setDate(parseDate(string(b), src.now))
				}
			}
		case "id3 ", "ID3 ":
			readID3v2(src, body, body+size, &id3, src.now)
		}
		off = body + size + size&1
	}
	if format == nil {
		return Info{}, errors.New("no fmt chunk")
	}

	t := info
	t.setDate(bextDate.date)
	t.setTitle(id3.title)
	t.setDate(id3.date)
	t.setTitle(leading.title) // a tag in front is the last resort, as in ffmpeg
	t.setDate(leading.date)
	out := Info{SampleRate: format.sampleRate, Channels: format.channels}
	t.apply(&out)
	out.Duration = wavDuration(*format, dataBytes, dataDeclared, factFrames) // no data chunk: no audio
	if dataStart >= 0 {
		out.PCM = format.pcm(dataStart, dataBytes)
	}
	return out, nil
}

// pcm locates the samples of a linear PCM or float data chunk; nil for
// other encodings.
func (f wavFormat) pcm(offset, length int64) *PCM {
	if (f.tag != 1 && f.tag != 3) || f.channels < 1 || f.blockAlign%f.channels != 0 {
		return nil
	}
	// The container's width per sample: 24 valid bits may sit in 32.
	bits := f.blockAlign / f.channels * 8
	if bits == 0 || (f.tag == 3 && bits != 32 && bits != 64) {
		return nil
	}
	return &PCM{Offset: offset, Length: length, Bits: bits, Channels: f.channels, Float: f.tag == 3, Unsigned: bits == 8}
}

// wavDuration is the duration of dataBytes of audio, of the declared
// bytes the data chunk says it holds. Uncompressed audio is counted in
// whole sample frames. Compressed audio uses the fact chunk's frame count
// when all the data is there, else the average byte rate; without a byte
// rate (some writers leave it 0), the fact count scaled to the bytes
// present. No duration (nil) when the header does not tell, never 0 for
// data that is there.
func wavDuration(f wavFormat, dataBytes, declared, factFrames int64) *float64 {
	if dataBytes <= 0 {
		return seconds(0)
	}
	var d *float64
	align := f.blockAlign
	if f.uncompressed() && align <= 0 && f.bits > 0 {
		align = f.channels * ((f.bits + 7) / 8) // a damaged block align
	}
	byFact := ratio(factFrames, int64(f.sampleRate))
	if factFrames <= 0 {
		byFact = nil // an empty fact chunk: the writer never filled it in
	}
	switch {
	case f.uncompressed() && align > 0:
		d = ratio(dataBytes/int64(align), int64(f.sampleRate))
	case f.byteRate > 0:
		d = ratio(dataBytes, int64(f.byteRate))
		if byFact != nil && *byFact <= *d*1.05 {
			d = byFact
		}
	case byFact != nil:
		d = byFact
		if declared > dataBytes {
			d = seconds(*byFact * float64(dataBytes) / float64(declared)) // cut short
		}
	}
	if d != nil && *d == 0 {
		return nil // data, but less than a frame by a damaged header's count
	}
	return d
}

// chunkFollows reports whether a plausible chunk header starts at off: an
// id of four printable ASCII characters and a size that fits in the file.
func chunkFollows(src *source, off int64) bool {
	b, ok := src.full(off, 8)
	if !ok {
		return false
	}
	for _, c := range b[:4] {
		if c < 0x20 || c > 0x7E {
			return false
		}
	}
	return off+8+int64(binary.LittleEndian.Uint32(b[4:])) <= src.size
}

// readRIFFInfo reads INAM (title) and ICRD (creation date) from the body of
// a LIST/INFO chunk.
func readRIFFInfo(b []byte, t *tags, now time.Time) {
	for len(b) >= 8 {
		id, size := string(b[:4]), int64(binary.LittleEndian.Uint32(b[4:]))
		b = b[8:]
		if size > int64(len(b)) {
			size = int64(len(b))
		}
		value := string(b[:size])
		switch id {
		case "INAM":
			t.setTitle(value)
		case "ICRD":
			t.setDate(parseDate(cleanText(value), now))
		}
		size += size & 1
		if size > int64(len(b)) {
			return
		}
		b = b[size:]
	}
}
