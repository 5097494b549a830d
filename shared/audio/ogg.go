package audio

import (
	"encoding/binary"
	"errors"
)

// Ogg (RFC 3533) carrying Vorbis or Opus. A page is a 27-byte header, a
// segment table, and up to 255×255 bytes of packet data; the granule
// position of a page counts the samples decoded by its end (Vorbis: at the
// stream's rate; Opus: at 48 kHz, including the pre-skip).

const (
	oggHeaderLen = 27
	// maxOggPage is the largest page there can be.
	maxOggPage = oggHeaderLen + 255 + 255*255
	// oggTailWindow always holds the whole of the last complete page, even
	// behind a partial page the file was cut in.
	oggTailWindow = 2 * maxOggPage
	// maxOggPages bounds the pages read to assemble the comment packet, and
	// maxOggCandidates the page starts tried from the end of the file.
	maxOggPages      = 64
	maxOggCandidates = 16
	// opusRate is the rate of Opus granule positions, whatever the input.
	opusRate = 48000
)

// oggPage is a page header, with where its data lies.
type oggPage struct {
	flags    byte
	granule  uint64
	serial   uint32
	crc      uint32
	segments []byte // the lacing values
	dataLen  int64
	length   int64 // the whole page
}

// parseOggPage decodes the page header at the start of b.
func parseOggPage(b []byte) (oggPage, bool) {
	if len(b) < oggHeaderLen || string(b[:4]) != "OggS" || b[4] != 0 {
		return oggPage{}, false
	}
	n := int(b[26])
	if len(b) < oggHeaderLen+n {
		return oggPage{}, false
	}
	p := oggPage{
		flags:    b[5],
		granule:  binary.LittleEndian.Uint64(b[6:]),
		serial:   binary.LittleEndian.Uint32(b[14:]),
		crc:      binary.LittleEndian.Uint32(b[22:]),
		segments: b[oggHeaderLen : oggHeaderLen+n],
	}
	for _, s := range p.segments {
		p.dataLen += int64(s)
	}
	p.length = oggHeaderLen + int64(n) + p.dataLen
	return p, true
}

// oggCodec is what the identification packet says.
type oggCodec struct {
	opus       bool
	channels   int
	sampleRate int    // Vorbis: the stream's rate; Opus: the input's
	preSkip    uint64 // Opus only
}

// parseOggCodec reads a Vorbis or Opus identification packet.
func parseOggCodec(b []byte) (oggCodec, bool) {
	switch {
	case len(b) >= 16 && string(b[:7]) == "\x01vorbis":
		return oggCodec{channels: int(b[11]), sampleRate: int(binary.LittleEndian.Uint32(b[12:]))}, true
	case len(b) >= 16 && string(b[:8]) == "OpusHead":
		return oggCodec{opus: true, channels: int(b[9]), preSkip: uint64(binary.LittleEndian.Uint16(b[10:])), sampleRate: int(binary.LittleEndian.Uint32(b[12:]))}, true
	}
	return oggCodec{}, false
}

func probeOgg(src *source) (Info, error) {
	b := src.read(0, maxOggPage)
	first, ok := parseOggPage(b)
	if !ok || first.flags&0x02 == 0 {
		return Info{}, errors.New("no beginning-of-stream Ogg page")
	}
	data := b[oggHeaderLen+len(first.segments):]
	idLen := firstPacketLen(first.segments)
	if int64(len(data)) < idLen {
		return Info{}, errShort
	}
	codec, ok := parseOggCodec(data[:idLen])
	if !ok {
		return Info{}, errors.New("neither a Vorbis nor an Opus stream")
	}

	var t tags
	comments := oggCommentPacket(src, first)
	switch {
	case !codec.opus && len(comments) >= 7 && string(comments[:7]) == "\x03vorbis":
		readVorbisComments(comments[7:], &t, src.now)
	case codec.opus && len(comments) >= 8 && string(comments[:8]) == "OpusTags":
		readVorbisComments(comments[8:], &t, src.now)
	}

	out := Info{Channels: codec.channels}
	t.apply(&out)
	rate := codec.sampleRate
	if codec.opus {
		rate = opusRate
	}
	if rate <= 0 || rate > maxSampleRate {
		return out, nil
	}
	out.SampleRate = rate
	if granule, ok := lastGranule(src, first.serial); ok {
		if codec.opus {
			granule -= min(granule, codec.preSkip)
		}
		out.Duration = seconds(float64(granule) / float64(rate))
	}
	return out, nil
}

// firstPacketLen is the length of the first packet that the lacing values
// describe (it ends at the first value below 255).
func firstPacketLen(segments []byte) int64 {
	var n int64
	for _, s := range segments {
		n += int64(s)
		if s < 255 {
			break
		}
	}
	return n
}

// oggCommentPacket assembles the stream's second packet, its comments,
// from the pages after the first, up to maxVorbisComment bytes: comments
// after a large embedded picture may be lost, the ones before it are not.
func oggCommentPacket(src *source, first oggPage) []byte {
	var packet []byte
	off := first.length
	for range maxOggPages {
		hb := src.read(off, oggHeaderLen+255)
		p, ok := parseOggPage(hb)
		if !ok {
			return packet
		}
		if p.serial == first.serial {
			data := src.read(off+oggHeaderLen+int64(len(p.segments)), p.dataLen)
			for _, n := range p.segments {
				seg := data[:min(int(n), len(data))]
				data = data[len(seg):]
				if len(packet)+len(seg) > maxVorbisComment {
					return packet
				}
				packet = append(packet, seg...)
				if n < 255 {
					return packet // the packet ends on this page
				}
			}
		}
		off += p.length
	}
	return packet
}

// lastGranule finds the last complete page of the stream, searching back
// from the end of the file, and returns its granule position.
func lastGranule(src *source, serial uint32) (uint64, bool) {
	from := max(src.size-oggTailWindow, 0)
	b := src.read(from, src.size-from)
	tried := 0
	for i := len(b) - oggHeaderLen; i >= 0 && tried < maxOggCandidates; i-- {
		if b[i] != 'O' || string(b[i:i+4]) != "OggS" {
			continue
		}
		tried++
		p, ok := parseOggPage(b[i:])
		// A page without a finished packet has granule -1; a page cut by
		// the end of the file, or whose checksum fails, is no page.
		if !ok || p.serial != serial || p.granule == ^uint64(0) || int64(i)+p.length > int64(len(b)) {
			continue
		}
		if oggCRC(b[i:int64(i)+p.length]) != p.crc {
			continue
		}
		return p.granule, true
	}
	return 0, false
}

// oggCRC computes the page checksum (polynomial 0x04C11DB7, initial 0, not
// reflected) with the checksum field counted as zero. Bit by bit: it runs
// on a handful of pages per file.
func oggCRC(page []byte) uint32 {
	var crc uint32
	for i, c := range page {
		if i >= 22 && i < 26 {
			c = 0
		}
		crc ^= uint32(c) << 24
		for range 8 {
			if crc&0x80000000 != 0 {
				crc = crc<<1 ^ 0x04C11DB7
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}
