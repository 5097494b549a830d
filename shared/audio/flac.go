package audio

import (
	"encoding/binary"
	"errors"
)

// FLAC: "fLaC", then metadata blocks, STREAMINFO first; then frames. Some
// taggers put an ID3v2 tag in front, which is skipped.

const (
	// maxMetadataBlocks bounds the metadata blocks walked.
	maxMetadataBlocks = 1024
	// maxVorbisComment bounds the bytes read from a comment block.
	maxVorbisComment = 256 << 10
	// flacTailWindow is how much of the end of the file is searched for the
	// last frame header. Frames of common encodings are a few KiB.
	flacTailWindow = 64 << 10
)

// streamInfo is what the STREAMINFO block says.
type streamInfo struct {
	minBlock, maxBlock int
	sampleRate         int
	channels           int
	bitsPerSample      int
	totalSamples       int64 // 0: unknown
}

func parseStreamInfo(b []byte) streamInfo {
	return streamInfo{
		minBlock:      int(binary.BigEndian.Uint16(b)),
		maxBlock:      int(binary.BigEndian.Uint16(b[2:])),
		sampleRate:    int(be24(b[10:]) >> 4),
		channels:      int(b[12]>>1&7) + 1,
		bitsPerSample: int(binary.BigEndian.Uint16(b[12:])>>4&31) + 1,
		totalSamples:  int64(b[13]&0x0F)<<32 | int64(binary.BigEndian.Uint32(b[14:])),
	}
}

func probeFLAC(src *source) (Info, error) {
	var t tags
	start := readLeadingID3v2(src, &t)
	magic, ok := src.full(start, 8)
	if !ok {
		return Info{}, errShort
	}
	if string(magic[:4]) != "fLaC" || magic[4]&0x7F != 0 || be24(magic[5:]) < 34 {
		return Info{}, errors.New("no fLaC marker and STREAMINFO block")
	}
	b, ok := src.full(start+8, 34)
	if !ok {
		return Info{}, errShort
	}
	si := parseStreamInfo(b)

	// The comment block overrides an ID3v2 tag in front: it is FLAC's own.
	var comments tags
	off := start + 4
	audioStart := int64(-1)
	for range maxMetadataBlocks {
		h, ok := src.full(off, 4)
		if !ok {
			break
		}
		size := int64(be24(h[1:]))
		if h[0]&0x7F == 4 { // VORBIS_COMMENT
			readVorbisComments(src.read(off+4, min(size, maxVorbisComment)), &comments, src.now)
		}
		off += 4 + size
		if h[0]&0x80 != 0 { // last block
			audioStart = off
			break
		}
	}
	comments.setTitle(t.title)
	comments.setDate(t.date)

	out := Info{Channels: si.channels}
	comments.apply(&out)
	if si.sampleRate == 0 {
		return out, nil
	}
	out.SampleRate = si.sampleRate
	switch {
	case audioStart >= src.size:
		out.Duration = seconds(0) // the file ends in its metadata
		return out, nil
	}
	lost := audioStart < 0
	if lost {
		// A damaged block length lost the end of the metadata: the
		// frames, if any, are somewhere after STREAMINFO.
		audioStart = start + 8 + 34
	}
	// The last frame tells how many samples are really there: fewer than
	// STREAMINFO says when the file is cut short, and the only count when
	// the encoder could not write one (total 0).
	total := si.totalSamples
	end, found := lastFLACSample(src, audioStart, si)
	if found && (total == 0 || end < total) {
		total = end
	}
	if lost && !found {
		return out, nil // cut in its metadata, or damaged: unknown
	}
	if total > 0 {
		out.Duration = ratio(total, int64(si.sampleRate))
	}
	return out, nil
}

// lastFLACSample finds the last frame header in the file and returns the
// sample number just after that frame.
func lastFLACSample(src *source, audioStart int64, si streamInfo) (int64, bool) {
	from := max(audioStart, src.size-flacTailWindow)
	b := src.read(from, src.size-from)
	for i := len(b) - 2; i >= 0; i-- {
		if b[i] != 0xFF || b[i+1]&0xFE != 0xF8 {
			continue
		}
		if first, n, ok := parseFLACFrame(b[i:], si); ok {
			end := first + n
			if si.totalSamples == 0 || end <= si.totalSamples+int64(si.maxBlock) {
				return end, true
			}
		}
	}
	return 0, false
}

// parseFLACFrame decodes the frame header at the start of b and returns its
// first sample number and its number of samples. The header must agree with
// STREAMINFO and pass its CRC-8, so that audio data is not taken for one.
func parseFLACFrame(b []byte, si streamInfo) (first, n int64, ok bool) {
	if len(b) < 6 || b[0] != 0xFF || b[1]&0xFE != 0xF8 {
		return 0, 0, false
	}
	variable := b[1]&1 == 1
	bsCode, srCode := b[2]>>4, b[2]&0x0F
	chCode, ssCode := b[3]>>4, b[3]>>1&7
	if bsCode == 0 || srCode == 15 || chCode > 10 || ssCode == 3 || b[3]&1 != 0 {
		return 0, 0, false
	}
	if rate, fixed := flacRate(srCode); fixed && rate != si.sampleRate {
		return 0, 0, false
	}
	if ch := int(chCode) + 1; chCode >= 8 && si.channels != 2 || chCode < 8 && ch != si.channels {
		return 0, 0, false
	}
	num, p, ok := flacUTF8(b, 4)
	if !ok {
		return 0, 0, false
	}
	switch {
	case bsCode == 1:
		n = 192
	case bsCode <= 5:
		n = 576 << (bsCode - 2)
	case bsCode == 6:
		if p+1 > len(b) {
			return 0, 0, false
		}
		n, p = int64(b[p])+1, p+1
	case bsCode == 7:
		if p+2 > len(b) {
			return 0, 0, false
		}
		n, p = int64(binary.BigEndian.Uint16(b[p:]))+1, p+2
	default:
		n = 256 << (bsCode - 8)
	}
	switch srCode {
	case 12:
		p++
	case 13, 14:
		p += 2
	}
	if p >= len(b) || crc8(b[:p]) != b[p] {
		return 0, 0, false
	}
	first = num
	if !variable {
		if si.minBlock != si.maxBlock || si.maxBlock == 0 {
			return 0, 0, false // a fixed-size stream must say the size
		}
		first = num * int64(si.maxBlock)
	}
	return first, n, true
}

// flacRate is the sample rate a frame header's code names, and whether the
// code names one at all (rather than deferring to STREAMINFO or the bytes
// after the header).
func flacRate(code byte) (int, bool) {
	rates := [12]int{0, 88200, 176400, 192000, 8000, 16000, 22050, 24000, 32000, 44100, 48000, 96000}
	if code == 0 || code >= 12 {
		return 0, false
	}
	return rates[code], true
}

// flacUTF8 decodes the frame or sample number coded like UTF-8 (up to 36
// bits in 7 bytes) at b[at:], returning it and the offset after it.
func flacUTF8(b []byte, at int) (int64, int, bool) {
	if at >= len(b) {
		return 0, 0, false
	}
	c := b[at]
	var v int64
	var extra int
	switch {
	case c < 0x80:
		return int64(c), at + 1, true
	case c&0xE0 == 0xC0:
		v, extra = int64(c&0x1F), 1
	case c&0xF0 == 0xE0:
		v, extra = int64(c&0x0F), 2
	case c&0xF8 == 0xF0:
		v, extra = int64(c&0x07), 3
	case c&0xFC == 0xF8:
		v, extra = int64(c&0x03), 4
	case c&0xFE == 0xFC:
		v, extra = int64(c&0x01), 5
	case c == 0xFE:
		v, extra = 0, 6
	default:
		return 0, 0, false
	}
	if at+1+extra > len(b) {
		return 0, 0, false
	}
	for _, c := range b[at+1 : at+1+extra] {
		if c&0xC0 != 0x80 {
			return 0, 0, false
		}
		v = v<<6 | int64(c&0x3F)
	}
	return v, at + 1 + extra, true
}

// crc8 is FLAC's frame header CRC: polynomial x^8 + x^2 + x + 1, initial 0.
func crc8(b []byte) byte {
	var crc byte
	for _, c := range b {
		crc ^= c
		for range 8 {
			if crc&0x80 != 0 {
				crc = crc<<1 ^ 0x07
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}
