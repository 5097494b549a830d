package waveform

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"bandarchive/shared/audio"
)

// loudThenQuiet is a 16-bit mono WAV: a full-scale first half, a quiet
// second half.
func loudThenQuiet(frames int) []byte {
	var b bytes.Buffer
	data := make([]byte, 2*frames)
	for i := range frames {
		amp := 32767.0
		if i >= frames/2 {
			amp = 3276.7
		}
		binary.LittleEndian.PutUint16(data[2*i:], uint16(int16(amp*math.Sin(float64(i)/3))))
	}
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(36+len(data)))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(8000), uint32(16000), uint16(2), uint16(16)} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(len(data)))
	b.Write(data)
	return b.Bytes()
}

func compute(t *testing.T, data []byte) ([]byte, error) {
	t.Helper()
	f, ok := audio.Sniff(data[:min(len(data), audio.SniffLen)])
	if !ok {
		t.Fatal("not audio")
	}
	info, err := audio.Probe(bytes.NewReader(data), int64(len(data)), f)
	if err != nil {
		t.Fatal(err)
	}
	return Compute(context.Background(), bytes.NewReader(data), int64(len(data)), f, info)
}

func TestPeaksFollowTheLoudness(t *testing.T) {
	peaks, err := compute(t, loudThenQuiet(200_000))
	if err != nil {
		t.Fatal(err)
	}
	if len(peaks) != Columns {
		t.Fatalf("%d peaks, want %d", len(peaks), Columns)
	}
	if peaks[10] < 240 || peaks[Columns/2-10] < 240 {
		t.Errorf("loud half: peaks %d, %d, want near 255", peaks[10], peaks[Columns/2-10])
	}
	// A tenth of the amplitude is 20 dB down: 28 of the 48 dB drawn.
	if p := peaks[Columns-10]; p < 145 || p > 153 {
		t.Errorf("quiet half: peak %d, want about 149 (-20 dB on the dB scale)", p)
	}
}

// TestOneClickDoesNotFlattenTheRest: a full-scale click at the start of a
// quiet recording leaves the rest drawn at its own level, not a flat line
// as a scale relative to the loudest moment would.
func TestOneClickDoesNotFlattenTheRest(t *testing.T) {
	samples := make([]byte, 0, 4*100_000)
	for i := range 100_000 {
		v := float32(0.03 * math.Sin(float64(i)/7)) // about -30 dBFS
		if i == 10 {
			v = 1
		}
		samples = binary.LittleEndian.AppendUint32(samples, math.Float32bits(v))
	}
	peaks, seconds, err := FromSamples(context.Background(), bytes.NewReader(samples), 8000)
	if err != nil {
		t.Fatal(err)
	}
	if seconds != 12.5 {
		t.Errorf("seconds = %v, want 12.5", seconds)
	}
	if peaks[0] != 255 {
		t.Errorf("click: peak %d, want 255", peaks[0])
	}
	if p := peaks[Columns/2]; p < 90 || p > 100 {
		t.Errorf("after the click: peak %d, want about 96 (-30 dB on the dB scale), visible", p)
	}
}

func TestEveryDecodableFixtureDraws(t *testing.T) {
	files, _ := filepath.Glob("../audio/testdata/*.*")
	drawn := map[string]bool{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil || filepath.Ext(f) == ".md" {
			continue
		}
		peaks, err := compute(t, data)
		format, _ := audio.Sniff(data[:min(len(data), audio.SniffLen)])
		switch {
		case errors.Is(err, ErrUnsupported):
			if format.Name != "ogg" && format.Name != "m4a" {
				t.Errorf("%s: %s should be decodable", f, format.Name)
			}
		case err != nil:
			t.Errorf("%s: %v", f, err)
		default:
			var loudest byte
			for _, p := range peaks {
				loudest = max(loudest, p)
			}
			if loudest < 100 {
				t.Errorf("%s: loudest peak %d, want a tone drawn well above the floor", f, loudest)
			}
			drawn[format.Name] = true
		}
	}
	for _, name := range []string{"wav", "aiff", "flac", "mp3"} {
		if !drawn[name] {
			t.Errorf("no %s fixture was drawn", name)
		}
	}
}

func TestTruncatedAndSilentFilesDoNotFail(t *testing.T) {
	wav := loudThenQuiet(10_000)
	peaks, err := compute(t, wav[:len(wav)/3])
	if err != nil || len(peaks) != Columns {
		t.Fatalf("truncated: %d peaks, %v", len(peaks), err)
	}
	silent := loudThenQuiet(1000)
	for i := 44; i < len(silent); i++ {
		silent[i] = 0
	}
	peaks, err = compute(t, silent)
	if err != nil || !bytes.Equal(peaks, make([]byte, Columns)) {
		t.Fatalf("silence: %v, %v; want all zero", peaks[:8], err)
	}
}

func TestCancelledContextStops(t *testing.T) {
	data := loudThenQuiet(2_000_000)
	f, _ := audio.Sniff(data[:audio.SniffLen])
	info, _ := audio.Probe(bytes.NewReader(data), int64(len(data)), f)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Compute(ctx, bytes.NewReader(data), int64(len(data)), f, info); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
