package audio

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// fixture is one file of testdata/ (see testdata/README.md for how each was
// made) with what ffprobe reported for it then.
type fixture struct {
	file       string
	format     Format
	duration   float64 // ffprobe's format duration, seconds
	sampleRate int
	channels   int
	tagged     bool // carries title "Fixture Title" and date 1998-07-14
}

func fixtures() []fixture {
	return []fixture{
		{file: "bwf.wav", format: formatWAV, duration: 1.000000, sampleRate: 8000, channels: 1, tagged: true},
		{file: "tone.aiff", format: formatAIFF, duration: 1.000000, sampleRate: 8000, channels: 1, tagged: true},
		{file: "tone.flac", format: formatFLAC, duration: 1.000000, sampleRate: 8000, channels: 1, tagged: true},
		{file: "vorbis.ogg", format: formatOgg, duration: 1.000000, sampleRate: 8000, channels: 1, tagged: true},
		{file: "opus.ogg", format: formatOgg, duration: 1.006500, sampleRate: 48000, channels: 1, tagged: true},
		{file: "id3v24.mp3", format: formatMP3, duration: 1.071020, sampleRate: 22050, channels: 1, tagged: true},
		{file: "cbr.mp3", format: formatMP3, duration: 1.045000, sampleRate: 44100, channels: 1},
		{file: "tone.m4a", format: formatM4A, duration: 1.000000, sampleRate: 8000, channels: 1, tagged: true},
		{file: "fragmented.m4a", format: formatM4A, duration: 1.128000, sampleRate: 8000, channels: 1, tagged: true},
		{file: "hires.m4a", format: formatM4A, duration: 0.250000, sampleRate: 96000, channels: 1, tagged: true},
		// ffprobe's format duration, 1.751655, is an estimate from the
		// bitrate of the first frames; it counts 60 frames of 576 samples
		// (-count_packets), which is this.
		{file: "vbr.mp3", format: formatMP3, duration: 1.567347, sampleRate: 22050, channels: 1},
	}
}

var fixtureDate = time.Date(1998, 7, 14, 0, 0, 0, 0, time.UTC)

const fixtureTitle = "Fixture Title"

func readFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// probeBytes probes b as format f.
func probeBytes(b []byte, f Format) (Info, error) {
	return Probe(bytes.NewReader(b), int64(len(b)), f)
}

// closeTo reports whether got is within 2% or 0.05 s of want, whichever is
// looser.
func closeTo(got, want float64) bool {
	return math.Abs(got-want) <= max(0.02*want, 0.05)
}

func durationString(d *float64) string {
	if d == nil {
		return "nil"
	}
	return time.Duration(*d * float64(time.Second)).String()
}

func dateString(d *time.Time) string {
	if d == nil {
		return "nil"
	}
	return d.Format(time.RFC3339)
}

func TestProbeFixtures(t *testing.T) {
	for _, tt := range fixtures() {
		t.Run(tt.file, func(t *testing.T) {
			info, err := probeBytes(readFixture(t, tt.file), tt.format)
			if err != nil {
				t.Fatalf("Probe: %v", err)
			}
			if info.Duration == nil || !closeTo(*info.Duration, tt.duration) {
				t.Errorf("duration: got %s, want %.6fs", durationString(info.Duration), tt.duration)
			}
			if info.SampleRate != tt.sampleRate || info.Channels != tt.channels {
				t.Errorf("got %d Hz × %d channels, want %d Hz × %d", info.SampleRate, info.Channels, tt.sampleRate, tt.channels)
			}
			wantTitle, wantDate := "", (*time.Time)(nil)
			if tt.tagged {
				wantTitle, wantDate = fixtureTitle, &fixtureDate
			}
			if info.Title != wantTitle {
				t.Errorf("title: got %q, want %q", info.Title, wantTitle)
			}
			if dateString(info.RecordedDate) != dateString(wantDate) {
				t.Errorf("recorded date: got %s, want %s", dateString(info.RecordedDate), dateString(wantDate))
			}
		})
	}
}

func TestSniffFixtures(t *testing.T) {
	for _, tt := range fixtures() {
		t.Run(tt.file, func(t *testing.T) {
			b := readFixture(t, tt.file)
			got, ok := Sniff(b[:min(len(b), SniffLen)])
			if !ok || got != tt.format {
				t.Errorf("got %+v, %v; want %+v, true", got, ok, tt.format)
			}
		})
	}
}

// TestProbeTruncated cuts every fixture at points inside its headers, its
// tags and its audio. A cut copy must never panic and never report more
// than the whole file; cut in half, it reports less than 80% of it (or no
// duration, or an error for a header that is gone).
func TestProbeTruncated(t *testing.T) {
	for _, tt := range fixtures() {
		b := readFixture(t, tt.file)
		full, err := probeBytes(b, tt.format)
		if err != nil || full.Duration == nil {
			t.Fatalf("%s: the whole file does not probe: %v", tt.file, err)
		}
		cuts := []int{0, 1, 3, 4, 8, 11, 12, 16, 20, 27, 36, 44, 64, 100, 200, 400, 1000, len(b) / 4, len(b) / 2, 3 * len(b) / 4, len(b) - 100, len(b) - 1}
		for _, n := range cuts {
			if n < 0 || n >= len(b) {
				continue
			}
			cut := b[:n]
			Sniff(cut)
			info, err := probeBytes(cut, tt.format)
			if err != nil || info.Duration == nil {
				continue
			}
			if d := *info.Duration; d > *full.Duration+1e-9 {
				t.Errorf("%s cut at %d: duration %s, more than the whole file's %s", tt.file, n, durationString(info.Duration), durationString(full.Duration))
			}
			if n == len(b)/2 && *info.Duration >= 0.8**full.Duration {
				t.Errorf("%s cut in half: duration %s, want less than 80%% of %s", tt.file, durationString(info.Duration), durationString(full.Duration))
			}
		}
	}
}

// countingReader is a file of virtual size whose first bytes are head and
// the rest zeros; it counts the bytes read from it.
type countingReader struct {
	head []byte
	size int64
	read int64
}

func (r *countingReader) ReadAt(p []byte, off int64) (int, error) {
	if off >= r.size {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), r.size-off))
	for i := range p[:n] {
		p[i] = 0
	}
	if off < int64(len(r.head)) {
		copy(p[:n], r.head[off:])
	}
	r.read += int64(n)
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// TestProbeReadsLittle probes each fixture as if it were followed by 500 MB
// of zeros: Probe must read headers, tags and a window at the end, not the
// file. (An MP3 without a Xing header has its frames counted to the end,
// but the chain of frames ends where the zeros start.)
func TestProbeReadsLittle(t *testing.T) {
	const size = 500 << 20
	for _, tt := range fixtures() {
		t.Run(tt.file, func(t *testing.T) {
			r := &countingReader{head: readFixture(t, tt.file), size: size}
			if _, err := Probe(r, size, tt.format); err != nil {
				t.Fatalf("Probe: %v", err)
			}
			if r.read > 2<<20 {
				t.Errorf("read %d bytes of a 500 MB file, want at most 2 MiB", r.read)
			}
		})
	}
}

type failingReader struct{}

func (failingReader) ReadAt([]byte, int64) (int, error) { return 0, errors.New("disk on fire") }

func TestProbeReportsReadErrors(t *testing.T) {
	for _, tt := range fixtures() {
		if _, err := Probe(failingReader{}, 1000, tt.format); err == nil {
			t.Errorf("%s: got no error from a failing reader", tt.file)
		}
	}
}

func TestProbeUnknownFormat(t *testing.T) {
	if _, err := probeBytes([]byte("hello"), Format{Name: "txt"}); err == nil {
		t.Error("got no error for an unknown format")
	}
}
