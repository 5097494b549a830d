package audio

import (
	"bytes"
	"encoding/binary"
	"math"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

func allFormats() []Format {
	return []Format{formatWAV, formatMP3, formatFLAC, formatOgg, formatM4A, formatAIFF}
}

// fuzzSeeds are built files that reach parts of the parsers the fixtures
// do not: other versions, sizes kept elsewhere, pages and boxes of other
// shapes.
func fuzzSeeds() [][]byte {
	ds64 := make([]byte, 28)
	binary.LittleEndian.PutUint64(ds64[8:], 1600)
	return [][]byte{
		riffFile("RF64", claim(sizeUnknown), chunk{id: "ds64", data: ds64}, fmtChunk(1, 1, 8000, 16), chunk{id: "data", data: make([]byte, 1600), size: claim(sizeUnknown)}, infoList("INAM", "x", "ICRD", "1998")),
		riffFile("RIFF", nil, fmtChunk(0x11, 1, 8000, 4), chunk{id: "fact", data: []byte{0x40, 0x1F, 0, 0}}, bextChunk("1998-07-14"), chunk{id: "data", data: make([]byte, 400)}, chunk{id: "id3 ", data: id3Tag(3, 0, id3Frame(3, "TIT2", 0, latin1Text("x")))}),
		iffFile("AIFC", commChunk(2, 100, 16, 44100, "sowt"), chunk{id: "NAME", data: []byte("x")}, ssndChunk(400)),
		concat(id3Tag(3, 0x80, unsync(id3Frame(3, "TIT2", 0, latin1Text("a\xff")))), vbriFrame(10, 1251), plainFrame(), plainFrame()),
		concat(id3Tag(2, 0, id3Frame(2, "TT2", 0, latin1Text("x")), id3Frame(2, "TYE", 0, latin1Text("1998"))), plainFrame(), plainFrame()),
		concat(id3Tag(4, 0x40, []byte{0, 0, 0, 6, 1, 0}, id3Frame(4, "TIT2", 0x0003, append(syncsafeBytes(2), textFrame(3, []byte("x"))...))), plainFrame(), plainFrame()),
		concat(oggPageBytes(2, 0, 9, vorbisID(2, 8000)), oggPageBytes(0, 0, 9, []byte("\x03vorbis\x00\x00\x00\x00\x01\x00\x00\x00\x07\x00\x00\x00title=x")), oggPageBytes(4, 8000, 9, make([]byte, 30))),
		splitCommentPacket([]byte("OpusTags\x00\x00\x00\x00\x01\x00\x00\x00\x09\x00\x00\x00DATE=1998")),
		concat(ftyp("M4A ", "isom"), box("moov", mvhd(1000, 2500), trak("soun"), box("mvex", fullBox("mehd", 0, make([]byte, 4))), box("udta", fullBox("meta", 0, box("ilst", ilstItem("\xa9nam", "x"), ilstItem("\xa9day", "1998")))))),
		// Fragments with each kind of duration, and an HE-AAC config with
		// a sync extension.
		concat(ftyp("iso6"), box("moov", mvhd(1000, 0), soundTrak(1, 44100, 22050<<16, 1, ascBits([2]int{5, 2}, [2]int{4, 7}, [2]int{4, 1}, [2]int{3, 0}, [2]int{11, 0x2B7}, [2]int{5, 5}, [2]int{1, 1}, [2]int{4, 4}), stts([2]uint32{2, 1024})), box("mvex", trex(1, 1024))),
			fragment(40, fragTraf(1, 0, 2)), fragment(40, fragTraf(1, 2048, 2)), fragment(40, fragTraf(1, 0, 0, 1024, 1024), fragTraf(2, 0, 1))),
		// VBR frames without a Xing header, junk and a tag between them.
		concat(mpeg1Frames(1, 1, 14), []byte("junk\xff\xfb"), id3Tag(3, 0, id3Frame(3, "TT2\x00", 0, latin1Text("x"))), mpeg1Frames(9, 9, 9)),
		// An ID3v2 tag in front of a WAV whose byte rate is 0.
		concat(id3Tag(3, 0), riffFile("RIFF", nil, chunk{id: "fmt ", data: []byte{0x11, 0, 1, 0, 0x40, 0x1F, 0, 0, 0, 0, 0, 0, 0, 1, 4, 0}}, chunk{id: "fact", data: []byte{0x40, 0x1F, 0, 0}}, chunk{id: "data", data: make([]byte, 100), size: claim(4000)})),
	}
}

// FuzzProbe feeds every input to Sniff and to Probe as every format. The
// properties: nothing panics; each Probe ends quickly and allocates in
// proportion to the input, not to the lengths written in it; a duration
// is finite and not negative; a date is a plausible UTC midnight; a title
// is clean text.
func FuzzProbe(f *testing.F) {
	for _, fx := range fixtures() {
		f.Add(readFixture(f, fx.file))
	}
	for _, b := range fuzzSeeds() {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		head := data[:min(len(data), SniffLen)]
		got, ok := Sniff(head)
		if ok && !accepted(got) {
			t.Fatalf("Sniff: got %+v, not an accepted format", got)
		}
		// SniffAt reads past tags; on a whole head, it agrees with Sniff.
		at, atOK, err := SniffAt(bytes.NewReader(data), int64(len(data)))
		switch {
		case err != nil:
			t.Fatalf("SniffAt: %v", err)
		case atOK && !accepted(at):
			t.Fatalf("SniffAt: got %+v, not an accepted format", at)
		case len(data) < SniffLen && (atOK != ok || ok && at != got):
			t.Fatalf("SniffAt: got %q %v, Sniff %q %v", at.Name, atOK, got.Name, ok)
		}
		NeedsSniffAt(head)
		for _, format := range allFormats() {
			var (
				info Info
				err  error
			)
			start := time.Now()
			probe := func() { info, err = probeBytes(data, format) }
			n := allocatedBy(probe)
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("%s: Probe took %v", format.Name, took)
			}
			limit := uint64(128<<10 + 16*len(data))
			if n > limit {
				n = leastAllocatedBy(probe) // only a repeatable excess counts
			}
			if n > limit {
				t.Errorf("%s: Probe allocated %d bytes for %d of input, want at most %d", format.Name, n, len(data), limit)
			}
			if err != nil {
				continue
			}
			checkInfo(t, format, info, len(data))
		}
	})
}

func accepted(f Format) bool {
	for _, a := range allFormats() {
		if f == a {
			return true
		}
	}
	return false
}

func checkInfo(t *testing.T, format Format, info Info, size int) {
	t.Helper()
	if d := info.Duration; d != nil && (math.IsNaN(*d) || math.IsInf(*d, 0) || *d < 0) {
		t.Errorf("%s: duration %v", format.Name, *d)
	}
	if info.SampleRate < 0 || info.Channels < 0 {
		t.Errorf("%s: %d Hz × %d channels", format.Name, info.SampleRate, info.Channels)
	}
	if d := info.RecordedDate; d != nil {
		if formatDate(d) != d.Format(time.DateOnly) || d.Year() < earliestYear || d.After(time.Now()) {
			t.Errorf("%s: recorded date %v", format.Name, d)
		}
	}
	if p := info.PCM; p != nil && (p.Offset < 0 || p.Length < 0 || p.Offset+p.Length > int64(size) || p.Channels < 1 || p.Bits%8 != 0) {
		t.Errorf("%s: PCM %+v in %d bytes", format.Name, *p, size)
	}
	if !utf8.ValidString(info.Title) {
		t.Errorf("%s: title %q is not UTF-8", format.Name, info.Title)
	}
	for _, r := range info.Title {
		if unicode.IsControl(r) {
			t.Errorf("%s: title %q holds a control character", format.Name, info.Title)
			break
		}
	}
}
