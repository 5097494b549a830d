package audio

import (
	"encoding/binary"
	"errors"
	"io"
)

// MPEG-1, -2 and -2.5 Layer III ("MP3"). A frame header is four bytes; a
// stream is a chain of frames, each starting where the previous one ends.
// Layers I and II are not accepted: browsers do not play them.

// mpegFrame is a decoded Layer III frame header.
type mpegFrame struct {
	version    byte // 1 (MPEG-1), 2 (MPEG-2), 25 (MPEG-2.5)
	bitrate    int  // kbit/s
	sampleRate int  // Hz
	channels   int
	crc        bool // a 16-bit CRC follows the header
	length     int  // bytes, header and padding included
}

// samples is the number of samples per channel in one frame.
func (f mpegFrame) samples() int {
	if f.version == 1 {
		return 1152
	}
	return 576
}

// sideInfo is the length of the side information after the header (and
// CRC), where a Xing or Info header starts.
func (f mpegFrame) sideInfo() int {
	switch {
	case f.version == 1 && f.channels == 1:
		return 17
	case f.version == 1:
		return 32
	case f.channels == 1:
		return 9
	}
	return 17
}

// sameStream reports whether g can follow f in one stream.
func (f mpegFrame) sameStream(g mpegFrame) bool {
	return f.version == g.version && f.sampleRate == g.sampleRate
}

var (
	mpeg1Bitrates = [16]int{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0}
	mpeg2Bitrates = [16]int{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0}
	mpegRates     = [4]int{44100, 48000, 32000, 0}
)

// parseMPEGFrame decodes the Layer III frame header at the start of b.
// Free-format frames (bitrate index 0) are refused: their length cannot be
// known from the header.
func parseMPEGFrame(b []byte) (mpegFrame, bool) {
	if len(b) < 4 || b[0] != 0xFF || b[1]&0xE0 != 0xE0 {
		return mpegFrame{}, false
	}
	var f mpegFrame
	switch (b[1] >> 3) & 3 {
	case 0:
		f.version = 25
	case 2:
		f.version = 2
	case 3:
		f.version = 1
	default:
		return mpegFrame{}, false
	}
	if (b[1]>>1)&3 != 1 { // Layer III
		return mpegFrame{}, false
	}
	f.crc = b[1]&1 == 0
	bi, ri := b[2]>>4, (b[2]>>2)&3
	if f.version == 1 {
		f.bitrate = mpeg1Bitrates[bi]
	} else {
		f.bitrate = mpeg2Bitrates[bi]
	}
	f.sampleRate = mpegRates[ri]
	if f.bitrate == 0 || f.sampleRate == 0 || b[3]&3 == 2 { // emphasis 2 is reserved
		return mpegFrame{}, false
	}
	switch f.version {
	case 2:
		f.sampleRate /= 2
	case 25:
		f.sampleRate /= 4
	}
	f.channels = 2
	if b[3]>>6 == 3 {
		f.channels = 1
	}
	padding := int(b[2]>>1) & 1
	perFrame := 144
	if f.version != 1 {
		perFrame = 72
	}
	f.length = perFrame*f.bitrate*1000/f.sampleRate + padding
	return f, true
}

// findMPEGStream finds the first frame in b[from:limit] that starts a chain
// of at least need frames. A chain that runs past the end of b counts as
// long enough when openEnded says the file goes on after b. It returns the
// frame's offset in b.
func findMPEGStream(b []byte, from, limit, need int, openEnded bool) (int, mpegFrame, bool) {
	limit = min(limit, len(b)-3)
	for i := max(from, 0); i < limit; i++ {
		if b[i] != 0xFF {
			continue
		}
		first, ok := parseMPEGFrame(b[i:])
		if !ok {
			continue
		}
		if chainLength(b[i:], first, need, openEnded) >= need {
			return i, first, true
		}
	}
	return 0, mpegFrame{}, false
}

// chainLength counts the consecutive frames of one stream at the start of
// b, up to need; when openEnded, a chain that runs past the end of b counts
// as long enough.
func chainLength(b []byte, first mpegFrame, need int, openEnded bool) int {
	n, pos, f := 1, 0, first
	for n < need {
		pos += f.length
		if pos >= len(b) {
			if openEnded {
				return need
			}
			return n
		}
		g, ok := parseMPEGFrame(b[pos:])
		if !ok || !first.sameStream(g) {
			return n
		}
		f = g
		n++
	}
	return n
}

const (
	// mp3ScanWindow is how far past the tags Probe looks for the first frame.
	mp3ScanWindow = 64 << 10
	// id3v1Len is the size of the ID3v1 tag at the end of a file.
	id3v1Len = 128
	// maxMPEGFrame is the longest Layer III frame: MPEG-1 at 320 kbit/s and
	// 32 kHz, or MPEG-2.5 at 160 kbit/s and 8 kHz, with padding.
	maxMPEGFrame = 1441
	// maxResync is how far past a break in the chain of frames (junk, a
	// damaged frame) the frame count looks for the chain to go on.
	maxResync = 64 << 10
	// resyncChain is how many chained frames must follow a break for the
	// count to go on there: one sync word in junk is no stream.
	resyncChain = 3
	// mp3ReadBuffer is the buffer of the sequential read that counts frames.
	mp3ReadBuffer = 64 << 10
)

func probeMP3(src *source) (Info, error) {
	var t tags
	start := readLeadingID3v2(src, &t)
	window := src.read(start, mp3ScanWindow)
	// A file may end in its first frame's chain: cut short, it still probes.
	pos, frame, ok := findMPEGStream(window, 0, len(window), 2, true)
	if !ok {
		return Info{}, errors.New("no MPEG audio frame after the tags")
	}
	end := src.size
	if readID3v1(src, &t, src.now) {
		end -= id3v1Len
	}
	out := Info{SampleRate: frame.sampleRate, Channels: frame.channels}
	t.apply(&out)

	first := start + int64(pos)
	audioBytes := max(end-first, 0)
	perFrame := float64(frame.samples()) / float64(frame.sampleRate)
	if frames, bytes, ok := vbrHeader(window[pos:], frame); ok {
		if bytes > 0 && audioBytes < bytes {
			// Cut short: the frames actually there count, after the
			// header's own frame (which holds no audio). Scaling the count
			// by the bytes present is the fallback: a VBR stream's bytes
			// are not spread evenly over its time.
			n := countMPEGFrames(src, first+int64(frame.length), end, frame)
			if n > 0 {
				out.Duration = seconds(float64(min(n, frames)) * perFrame)
			} else {
				out.Duration = seconds(float64(frames) * perFrame * float64(audioBytes) / float64(bytes))
			}
			return out, nil
		}
		out.Duration = seconds(float64(frames) * perFrame)
		return out, nil
	}
	// No frame count in the file: count the frames. The first frame's
	// bitrate says nothing of a VBR stream's (and an encoder's first frames
	// of silence take the least bitrate there is).
	if n := countMPEGFrames(src, first, end, frame); n > 0 {
		out.Duration = seconds(float64(n) * perFrame)
		return out, nil
	}
	// The first frame is cut by the end of the file: what of it is there.
	out.Duration = seconds(float64(audioBytes) * 8 / float64(frame.bitrate*1000))
	return out, nil
}

// countMPEGFrames counts the whole frames of first's stream between off
// and end, walking the chain from frame to frame with one sequential,
// buffered read. Where the chain breaks it skips an ID3v2 tag (files
// joined end to end) or looks up to maxResync bytes further for a chain of
// resyncChain frames to go on with; past that, the rest is not audio.
func countMPEGFrames(src *source, off, end int64, first mpegFrame) int64 {
	r := newForwardReader(src, off, end, mp3ReadBuffer)
	var n int64
	pos := off
	for pos+4 <= end {
		b := r.at(pos, id3HeaderLen)
		if len(b) < 4 {
			break
		}
		if f, ok := parseMPEGFrame(b); ok && first.sameStream(f) {
			if pos+int64(f.length) > end {
				break // the last frame is cut short
			}
			n++
			pos += int64(f.length)
			continue
		}
		if h, ok := parseID3Header(b); ok {
			pos += h.total()
			continue
		}
		next, ok := resyncMPEG(r, pos+1, min(end, pos+maxResync), first)
		if !ok {
			break
		}
		pos = next
	}
	return n
}

// resyncMPEG finds the first offset in [from, limit) where a chain of
// resyncChain frames of first's stream starts.
func resyncMPEG(r *forwardReader, from, limit int64, first mpegFrame) (int64, bool) {
	const span = resyncChain*maxMPEGFrame + 4
	for i := from; i < limit; i++ {
		b := r.at(i, span)
		if len(b) < 4 {
			return 0, false
		}
		if b[0] != 0xFF {
			continue
		}
		f, ok := parseMPEGFrame(b)
		if ok && first.sameStream(f) && chainLength(b, f, resyncChain, false) >= resyncChain {
			return i, true
		}
	}
	return 0, false
}

// forwardReader reads a stretch of a file front to back through one
// buffer, so that walking many small headers costs a read per buffer, not
// per header.
type forwardReader struct {
	src *source
	end int64  // nothing at or past it is read
	buf []byte // holds the file's bytes from off on, n of them
	off int64
	n   int
}

func newForwardReader(src *source, off, end int64, size int) *forwardReader {
	size = int(max(min(int64(size), end-off), 0))
	return &forwardReader{src: src, end: end, buf: make([]byte, size), off: off}
}

// at returns the buffered bytes from pos on: at least need of them unless
// the end comes first (need must not exceed the buffer). pos must not go
// back before an earlier call's pos.
func (r *forwardReader) at(pos int64, need int) []byte {
	if pos < r.off || pos >= r.end || r.src.err != nil {
		return nil
	}
	if pos+int64(need) > r.off+int64(r.n) && r.off+int64(r.n) < r.end {
		// Keep what is buffered from pos on, and fill the rest.
		if keep := r.off + int64(r.n) - pos; keep > 0 {
			copy(r.buf, r.buf[pos-r.off:r.n])
			r.n = int(keep)
		} else {
			r.n = 0
		}
		r.off = pos
		want := int(min(int64(len(r.buf)-r.n), r.end-(r.off+int64(r.n))))
		if want > 0 {
			got, err := r.src.r.ReadAt(r.buf[r.n:r.n+want], r.off+int64(r.n))
			r.n += got
			switch {
			case err != nil && !errors.Is(err, io.EOF):
				r.src.err = err
				return nil
			case got < want:
				r.end = r.off + int64(r.n) // the file is shorter than its size
			}
		}
	}
	if pos-r.off >= int64(r.n) {
		return nil
	}
	return r.buf[pos-r.off : r.n]
}

// vbrHeader reads the frame and byte counts from a Xing/Info header (LAME
// and most encoders) or a VBRI header (Fraunhofer) in the first frame b.
func vbrHeader(b []byte, f mpegFrame) (frames, bytes int64, ok bool) {
	b = b[:min(len(b), f.length)]
	at := 4 + f.sideInfo()
	if f.crc {
		at += 2
	}
	if len(b) >= at+8 && (string(b[at:at+4]) == "Xing" || string(b[at:at+4]) == "Info") {
		flags := binary.BigEndian.Uint32(b[at+4:])
		p := at + 8
		if flags&1 != 0 && len(b) >= p+4 {
			frames = int64(binary.BigEndian.Uint32(b[p:]))
			p += 4
		}
		if flags&2 != 0 && len(b) >= p+4 {
			bytes = int64(binary.BigEndian.Uint32(b[p:]))
		}
		return frames, bytes, frames > 0
	}
	const vbriAt = 4 + 32
	if len(b) >= vbriAt+18 && string(b[vbriAt:vbriAt+4]) == "VBRI" {
		bytes = int64(binary.BigEndian.Uint32(b[vbriAt+10:]))
		frames = int64(binary.BigEndian.Uint32(b[vbriAt+14:]))
		return frames, bytes, frames > 0
	}
	return 0, 0, false
}
