// Package audio decides an upload's format from its content, never its
// name, and reads what the file itself says about it: duration, title,
// recorded date, sample rate and channels.
//
// Every parser here reads an untrusted file. Each length field is checked
// against the bytes the file really holds before anything is allocated or
// skipped, every loop has a bound, and a file whose audio is cut short still
// probes, with the duration of what is present.
package audio

import (
	"errors"
	"fmt"
	"io"
	"math"
	"time"
)

// Format is one accepted audio format.
type Format struct {
	Name string // "wav", "mp3", "flac", "ogg", "m4a", "aiff"
	Ext  string // file extension without the dot; "ogg" also for Opus
	MIME string // the Content-Type to serve it with
}

// The accepted formats. They are values, so a caller cannot change them.
var (
	formatWAV  = Format{Name: "wav", Ext: "wav", MIME: "audio/wav"}
	formatMP3  = Format{Name: "mp3", Ext: "mp3", MIME: "audio/mpeg"}
	formatFLAC = Format{Name: "flac", Ext: "flac", MIME: "audio/flac"}
	formatOgg  = Format{Name: "ogg", Ext: "ogg", MIME: "audio/ogg"}
	formatM4A  = Format{Name: "m4a", Ext: "m4a", MIME: "audio/mp4"}
	formatAIFF = Format{Name: "aiff", Ext: "aiff", MIME: "audio/aiff"}
)

// FormatByName returns the format of a name Sniff gave (Format.Name), as
// a database stores it.
func FormatByName(name string) (Format, bool) {
	for _, f := range []Format{formatWAV, formatMP3, formatFLAC, formatOgg, formatM4A, formatAIFF} {
		if f.Name == name {
			return f, true
		}
	}
	return Format{}, false
}

// Info is what the file itself says.
type Info struct {
	Duration     *float64   // seconds; nil when it cannot be determined
	Title        string     // from tags, "" if none
	RecordedDate *time.Time // date only (UTC midnight), nil if none
	SampleRate   int        // Hz, 0 if unknown
	Channels     int        // 0 if unknown
	PCM          *PCM       // where uncompressed samples lie (WAV, AIFF); nil otherwise
}

// PCM locates uncompressed samples stored as one run of interleaved frames
// (a WAV data chunk, an AIFF SSND chunk), so that they can be read without
// parsing the container again.
type PCM struct {
	Offset    int64 // where the first sample frame starts in the file
	Length    int64 // bytes of sample frames present (never past the end of the file)
	Bits      int   // bits each sample occupies: 8, 16, 24, 32 or 64
	Channels  int
	Float     bool // IEEE 754 samples (32 or 64 bits)
	BigEndian bool
	Unsigned  bool // 8-bit WAV and AIFF "raw " samples are unsigned
}

// Probe reads the headers and tags of a stored file of format f, as Sniff
// or SniffAt reported it (only f.Name is used). It reads little: headers,
// tags, and for some formats a window at the end of the file. Two kinds of
// file say their duration nowhere but all along: an MP3 without a Xing or
// VBRI header (or cut shorter than that header says), whose frames are
// counted in one sequential, buffered read of the file, and a fragmented
// MP4, whose moof boxes (not their media data) are read one by one.
//
// It returns an error only when the format's essential header cannot be read
// (missing, damaged or cut off). A file whose audio is cut short still
// probes, with the duration of the audio actually present.
func Probe(r io.ReaderAt, size int64, f Format) (Info, error) {
	src := &source{r: r, size: size, now: time.Now()}
	var (
		info Info
		err  error
	)
	switch f.Name {
	case formatWAV.Name:
		info, err = probeWAV(src)
	case formatAIFF.Name:
		info, err = probeAIFF(src)
	case formatMP3.Name:
		info, err = probeMP3(src)
	case formatFLAC.Name:
		info, err = probeFLAC(src)
	case formatOgg.Name:
		info, err = probeOgg(src)
	case formatM4A.Name:
		info, err = probeMP4(src)
	default:
		return Info{}, fmt.Errorf("probe: unknown format %q", f.Name)
	}
	if src.err != nil {
		return Info{}, fmt.Errorf("probe %s: %w", f.Name, src.err)
	}
	if err != nil {
		return Info{}, fmt.Errorf("probe %s: %w", f.Name, err)
	}
	return info, nil
}

// errShort reports a header that the file ends before.
var errShort = errors.New("file ends inside the header")

// source is the file being probed. Its reads never ask for more bytes than
// the file holds, so a length field cannot make it allocate more than that.
type source struct {
	r    io.ReaderAt
	size int64
	now  time.Time // dates after it are refused
	err  error     // the first read error other than the end of the file
}

// read returns up to n bytes at off, fewer when the file ends first.
func (s *source) read(off int64, n int64) []byte {
	if off < 0 || n <= 0 || off >= s.size || s.err != nil {
		return nil
	}
	n = min(n, s.size-off)
	b := make([]byte, n)
	got, err := s.r.ReadAt(b, off)
	if err != nil && !errors.Is(err, io.EOF) {
		s.err = err
	}
	return b[:got]
}

// full returns exactly n bytes at off, or false when the file is shorter.
func (s *source) full(off int64, n int64) ([]byte, bool) {
	b := s.read(off, n)
	return b, int64(len(b)) == n
}

// seconds turns a computed duration into Info's form: nil unless it is a
// finite, non-negative number.
func seconds(d float64) *float64 {
	if math.IsNaN(d) || math.IsInf(d, 0) || d < 0 {
		return nil
	}
	return &d
}

// ratio is a/b as a duration, nil when b is zero.
func ratio[T ~int64 | ~uint64 | ~int | ~uint32](a, b T) *float64 {
	if b == 0 {
		return nil
	}
	return seconds(float64(a) / float64(b))
}

// tags gathers the text a file's tags hold, in the order found; the first
// non-empty value of each field wins.
type tags struct {
	title string
	date  *time.Time
}

// setTitle keeps the first non-empty title.
func (t *tags) setTitle(s string) {
	if t.title == "" {
		t.title = cleanText(s)
	}
}

// setDate keeps the first plausible date.
func (t *tags) setDate(d *time.Time) {
	if t.date == nil {
		t.date = d
	}
}

// apply copies the tags into info.
func (t tags) apply(info *Info) {
	info.Title = t.title
	info.RecordedDate = t.date
}

// be24 reads a 24-bit big-endian number (FLAC, ID3 v2.2), which
// encoding/binary has no reader for.
func be24(b []byte) uint32 { return uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2]) }
