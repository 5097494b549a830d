package audio

import (
	"bytes"
	"encoding/binary"
	"io"
	"time"

	"github.com/gabriel-vasile/mimetype"
)

// SniffLen is how many leading bytes Sniff wants: enough for the headers of
// every accepted format, an ID3v2 tag of ordinary size and the first MPEG
// frames after it.
const SniffLen = 64 << 10

const (
	// mp3JunkWindow is how far into a file without an ID3v2 tag the first
	// MPEG frame may start (some files begin with stray bytes), and how far
	// after an ID3v2 tag (some taggers leave padding they do not count).
	mp3JunkWindow = 4096
	// maxFtypBox bounds the size of a plausible ftyp box.
	maxFtypBox = 4096
)

// Sniff reports the format of a file from its first bytes: head holds the
// first SniffLen bytes, or the whole file when it is shorter. ok is false
// when the file is not an accepted audio format.
//
// The rules, in order (the file's name plays no part):
//   - WAV: "RIFF" (or "RF64", "BW64") and "WAVE" at 8, also behind an ID3v2
//     tag.
//   - AIFF: "FORM" and "AIFF" or "AIFC" at 8, also behind an ID3v2 tag.
//   - FLAC: "fLaC" and a 34-byte STREAMINFO block, also behind an ID3v2 tag.
//   - Ogg: a beginning-of-stream page whose first packet opens a Vorbis or
//     an Opus stream (Ogg FLAC, Speex, Theora are refused).
//   - M4A: an ftyp box whose major brand is an audio or a general MP4 brand
//     (QuickTime, M4V, HEIF, 3GPP are refused), and when the movie header
//     is within head, a sound track in it. A general-brand file whose movie
//     header comes later is accepted unseen: it may be a video, and Probe
//     then fails with "no audio track" for one that has no sound.
//   - MP3: an ID3v2 tag followed by an MPEG Layer III frame whose successor
//     is a valid frame of the same stream, or by more tag than head holds.
//     Without a tag, two chained frames at the very start, or three chained
//     frames within the first 4 KiB, where mimetype must not recognise the
//     bytes as some other format (a ZIP holding an MP3, for instance).
//
// A head that is all ID3v2 tag (a large cover picture) hides what follows
// the tag: Sniff then says MP3, the usual case, without having seen it.
// SniffAt, given the whole file, reads past the tag and decides; see
// NeedsSniffAt.
func Sniff(head []byte) (f Format, ok bool) {
	// A head shorter than SniffLen is the whole file: nothing follows it.
	return sniff(head, len(head) < SniffLen)
}

// SniffAt reports the format of the file r holds, size bytes long, by the
// rules of Sniff. Where Sniff sees only the first SniffLen bytes, SniffAt
// reads past leading ID3v2 tags of any size and decides from the SniffLen
// bytes that follow them, so that a FLAC, WAV or AIFF file behind a tag
// larger than SniffLen is known as what it is. It reads at most a few
// headers and two windows of SniffLen bytes. err is a read error of r.
func SniffAt(r io.ReaderAt, size int64) (f Format, ok bool, err error) {
	src := &source{r: r, size: size}
	head := src.read(0, SniffLen)
	if src.err != nil {
		return Format{}, false, src.err
	}
	whole := int64(len(head)) >= size
	if _, tagged := parseID3Header(head); !tagged {
		f, ok = sniff(head, whole)
		return f, ok, nil
	}
	end := leadingTagsEnd(src)
	rest := src.read(end, SniffLen)
	if src.err != nil {
		return Format{}, false, src.err
	}
	f, ok = sniffAfterTags(rest, end+int64(len(rest)) >= size)
	return f, ok, nil
}

// NeedsSniffAt reports whether Sniff's answer for head (the first bytes of
// a file, as Sniff takes them) was given without seeing what follows the
// file's ID3v2 tags: they fill head, or end too near its end to tell. Sniff
// then says MP3, the usual case. A caller that receives the file as a
// stream calls Sniff on head as before, to refuse at once what is no
// audio; when NeedsSniffAt is true, it calls SniffAt once the whole file is
// there and keeps that answer (which may be "no audio") instead.
func NeedsSniffAt(head []byte) bool {
	if len(head) < SniffLen {
		return false // the whole file: Sniff saw all of it
	}
	if _, tagged := parseID3Header(head); !tagged {
		return false
	}
	end := leadingTagsEnd(&source{r: bytes.NewReader(head), size: int64(len(head))})
	return end+tagTailSlack > int64(len(head))
}

// tagTailSlack is how much of what follows the tags Sniff wants to see to
// decide: junk the tagger left, then two MPEG frames.
const tagTailSlack = mp3JunkWindow + 2*maxMPEGFrame

// sniff is Sniff; whole says that head is the whole file.
func sniff(head []byte, whole bool) (Format, bool) {
	switch {
	case sniffWAV(head):
		return formatWAV, true
	case sniffAIFF(head):
		return formatAIFF, true
	case sniffFLAC(head):
		return formatFLAC, true
	case sniffOgg(head):
		return formatOgg, true
	case sniffMP4(head, whole):
		return formatM4A, true
	}
	if _, ok := parseID3Header(head); ok {
		return sniffAfterID3(head, whole)
	}
	if sniffBareMPEG(head, whole) {
		return formatMP3, true
	}
	return Format{}, false
}

// leadingTagsEnd is where the content after the ID3v2 tags at the start of
// src begins (0 when there are none), reading only their headers, as
// readLeadingID3v2 walks them.
func leadingTagsEnd(src *source) int64 {
	var end int64
	for range maxLeadingTags {
		hb, ok := src.full(end, id3HeaderLen)
		if !ok {
			break
		}
		h, ok := parseID3Header(hb)
		if !ok {
			break
		}
		end += h.total()
	}
	return end
}

func sniffWAV(b []byte) bool {
	if len(b) < 12 || string(b[8:12]) != "WAVE" {
		return false
	}
	switch string(b[:4]) {
	case "RIFF", "RF64", "BW64":
		return true
	}
	return false
}

func sniffAIFF(b []byte) bool {
	return len(b) >= 12 && string(b[:4]) == "FORM" &&
		(string(b[8:12]) == "AIFF" || string(b[8:12]) == "AIFC")
}

func sniffFLAC(b []byte) bool {
	return len(b) >= 8 && string(b[:4]) == "fLaC" && b[4]&0x7F == 0 && be24(b[5:]) == 34
}

func sniffOgg(b []byte) bool {
	p, ok := parseOggPage(b)
	if !ok || p.flags&0x02 == 0 {
		return false
	}
	data := b[oggHeaderLen+len(p.segments):]
	n := min(firstPacketLen(p.segments), int64(len(data)))
	_, ok = parseOggCodec(data[:n])
	return ok
}

// mp4Brand reports whether an ftyp major brand may hold audio we accept.
func mp4Brand(brand string) bool {
	switch brand {
	case "M4A ", "M4B ", "F4A ", "F4B ", // audio (iTunes, Flash)
		"isom", "iso2", "iso3", "iso4", "iso5", "iso6", "iso7", "iso8", "iso9",
		"mp41", "mp42", "mp71", "dash", "MSNV", "NDAS": // general MP4
		return true
	}
	return false
}

func sniffMP4(b []byte, whole bool) bool {
	if len(b) < 16 || string(b[4:8]) != "ftyp" {
		return false
	}
	if size := binary.BigEndian.Uint32(b); size < 16 || size > maxFtypBox || !mp4Brand(string(b[8:12])) {
		return false
	}
	m := readMP4Movie(&source{r: bytes.NewReader(b), size: int64(len(b))}, time.Time{})
	switch {
	case m.audio:
		return true
	case m.moovComplete, whole:
		return false // a movie without sound, or a file without a movie
	}
	return true // the movie header lies beyond head: accepted unseen
}

func sniffAfterID3(head []byte, whole bool) (Format, bool) {
	end := leadingTagsEnd(&source{r: bytes.NewReader(head), size: int64(len(head))})
	if end >= int64(len(head)) {
		// A tag larger than head (cover art) hides what follows; Probe
		// looks further, and SniffAt decides. In a whole file, nothing
		// follows the tag.
		return formatMP3, !whole
	}
	f, ok := sniffAfterTags(head[end:], whole)
	if !ok && !whole && end+tagTailSlack > int64(len(head)) {
		return formatMP3, true // too little of what follows was seen: as above
	}
	return f, ok
}

// sniffAfterTags decides the format of what follows a file's ID3v2 tags:
// rest, which is all of it when whole.
func sniffAfterTags(rest []byte, whole bool) (Format, bool) {
	switch {
	case sniffFLAC(rest):
		return formatFLAC, true
	case sniffWAV(rest):
		return formatWAV, true
	case sniffAIFF(rest):
		return formatAIFF, true
	}
	if _, _, ok := findMPEGStream(rest, 0, mp3JunkWindow, 2, !whole); ok {
		return formatMP3, true
	}
	return Format{}, false
}

func sniffBareMPEG(head []byte, whole bool) bool {
	_, _, ok := findMPEGStream(head, 0, 1, 2, false)
	if !ok {
		_, _, ok = findMPEGStream(head, 1, mp3JunkWindow, 3, !whole)
	}
	if !ok {
		return false
	}
	// Frame syncs also occur inside other files; one that mimetype knows
	// as something else is that, not an MP3.
	mt := mimetype.Detect(head)
	return mt.Is("audio/mpeg") || mt.Is("application/octet-stream")
}
