package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// Cases where this package once disagreed with ffprobe, each with what
// ffprobe (Debian 12's ffmpeg 5.1) reports for the same bytes, or why it
// cannot be asked. The built files are small; testdata/README.md has the
// commands for the fixtures.

// bigTag is an ID3v2.4 tag larger than SniffLen: a cover picture.
func bigTag(title string) []byte {
	return id3Tag(4, 0, id3Frame(4, "TIT2", 0, latin1Text(title)), id3Frame(4, "APIC", 0, make([]byte, SniffLen+5000)))
}

func TestSniffAtReadsPastLargeTags(t *testing.T) {
	flac := readFixture(t, "tone.flac")
	cbr := readFixture(t, "cbr.mp3")
	wav := readFixture(t, "bwf.wav")
	tests := []struct {
		name string
		file []byte
		want string // "" for refused
	}{
		{name: "FLAC behind a tag larger than SniffLen", file: concat(bigTag("Cover"), flac), want: "flac"},
		{name: "FLAC behind two tags, the second large", file: concat(id3Tag(3, 0, id3Frame(3, "TIT2", 0, latin1Text("x"))), bigTag("y"), flac), want: "flac"},
		{name: "MP3 behind a tag larger than SniffLen", file: concat(bigTag("Cover"), cbr), want: "mp3"},
		{name: "WAV behind a tag larger than SniffLen", file: concat(bigTag("Cover"), wav), want: "wav"},
		{name: "FLAC behind a tag ending 3 bytes before SniffLen", file: concat(id3Tag(4, 0, id3Frame(4, "APIC", 0, make([]byte, SniffLen-3-2*id3HeaderLen))), flac), want: "flac"},
		{name: "text behind a tag larger than SniffLen", file: concat(bigTag("Cover"), bytes.Repeat([]byte("not audio\n"), 1000))},
		{name: "a large tag and nothing else", file: bigTag("Cover")},
		{name: "a tag claiming more than the file", file: bigTag("Cover")[:SniffLen+100]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			head := tt.file[:min(len(tt.file), SniffLen)]
			if f, ok := Sniff(head); !ok || f != formatMP3 {
				t.Errorf("Sniff: got %q %v, want mp3 (unseen)", f.Name, ok)
			}
			if !NeedsSniffAt(head) {
				t.Error("NeedsSniffAt: got false, want true")
			}
			f, ok, err := SniffAt(bytes.NewReader(tt.file), int64(len(tt.file)))
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				f.Name = ""
			}
			if f.Name != tt.want {
				t.Fatalf("SniffAt: got %q (ok %v), want %q", f.Name, ok, tt.want)
			}
		})
	}

	// What the upload does with it then: Probe as the format SniffAt gave.
	file := concat(bigTag("Cover"), flac)
	info, err := probeBytes(file, formatFLAC)
	if err != nil || info.Duration == nil || !closeTo(*info.Duration, 1) || info.Title != fixtureTitle {
		t.Errorf("Probe FLAC behind a large tag: %+v, %v", info, err)
	}
}

// TestSniffAtAgreesWithSniff: for a whole file no longer than SniffLen,
// and for every file without a large leading tag, SniffAt says what Sniff
// says.
func TestSniffAtAgreesWithSniff(t *testing.T) {
	var files [][]byte
	for _, fx := range fixtures() {
		b := readFixture(t, fx.file)
		files = append(files, b, concat(id3Tag(3, 0, id3Frame(3, "TIT2", 0, latin1Text("x"))), b), concat(b, make([]byte, SniffLen)))
	}
	files = append(files, []byte("hello"), randomBytes(3*SniffLen), id3Tag(3, 0), fuzzSeeds()[0])
	for i, b := range files {
		want, wantOK := Sniff(b[:min(len(b), SniffLen)])
		got, ok, err := SniffAt(bytes.NewReader(b), int64(len(b)))
		if err != nil || ok != wantOK || ok && got != want {
			t.Errorf("file %d: SniffAt %q %v %v, Sniff %q %v", i, got.Name, ok, err, want.Name, wantOK)
		}
		if NeedsSniffAt(b[:min(len(b), SniffLen)]) {
			t.Errorf("file %d: NeedsSniffAt without a large tag", i)
		}
	}
}

func TestSniffAtReportsReadErrors(t *testing.T) {
	if _, _, err := SniffAt(failingReader{}, 1000); err == nil {
		t.Error("got no error from a failing reader")
	}
	file := concat(bigTag("Cover"), readFixture(t, "tone.flac"))
	r := &failAfter{b: file, at: SniffLen}
	if _, _, err := SniffAt(r, int64(len(file))); err == nil {
		t.Error("got no error from a reader failing past the head")
	}
}

// failAfter reads b but fails for reads that reach past at.
type failAfter struct {
	b  []byte
	at int64
}

func (r *failAfter) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > r.at {
		return 0, errors.New("disk on fire")
	}
	return copy(p, r.b[off:]), nil
}

func TestProbeFragmentedMP4(t *testing.T) {
	const rate = 48000
	asc := ascBits([2]int{5, 2}, [2]int{4, 3}, [2]int{4, 1}, [2]int{3, 0}) // AAC-LC, 48 kHz, mono
	moov := func(extra ...[]byte) []byte {
		return box("moov", mvhd(1000, 0), soundTrak(1, rate, rate<<16, 2, asc, stts()), box("mvex", append([][]byte{trex(1, 1024)}, extra...)...))
	}
	video := fragTraf(2, 0, 0, 9999999, 9999999) // another track's samples do not count
	const second = 47 * 1024                     // 1.002667 s
	tests := []probeCase{
		{name: "durations in the trun (Safari)", format: formatM4A,
			file: concat(ftyp("iso5", "iso6", "mp41"), moov(), fragment(500, fragTraf(1, 0, 0, repeat(1024, 47)...), video), fragment(500, fragTraf(1, 0, 0, repeat(1024, 47)...))),
			want: want{duration: 2 * second / float64(rate), sampleRate: rate, channels: 1}},
		{name: "durations from trex", format: formatM4A,
			file: concat(ftyp("iso6"), moov(), fragment(500, fragTraf(1, 0, 47)), fragment(500, fragTraf(1, 0, 47)), fragment(500, fragTraf(1, 0, 47))),
			want: want{duration: 3 * second / float64(rate), sampleRate: rate, channels: 1}},
		{name: "durations from tfhd (ffmpeg)", format: formatM4A,
			file: concat(ftyp("iso6"), moov(), fragment(500, fragTraf(1, 2048, 47))),
			want: want{duration: 2 * second / float64(rate), sampleRate: rate, channels: 1}},
		{name: "last fragment's media data cut in half", format: formatM4A,
			file: concat(ftyp("iso6"), moov(), fragment(500, fragTraf(1, 0, 47)), fragment(1000, fragTraf(1, 0, 47)))[:0],
			want: want{duration: 1.5 * second / float64(rate), sampleRate: rate, channels: 1}},
		{name: "mehd, the file whole", format: formatM4A,
			file: concat(ftyp("iso6"), moov(fullBox("mehd", 0, binary.BigEndian.AppendUint32(nil, 1003))), fragment(500, fragTraf(1, 0, 47))),
			want: want{duration: 1.003, sampleRate: rate, channels: 1}},
		{name: "samples in moov, then fragments (ffmpeg without empty_moov)", format: formatM4A,
			file: concat(ftyp("iso6"), box("moov", mvhd(1000, 1003), soundTrak(1, rate, rate<<16, 1, asc, stts([2]uint32{47, 1024})), box("mvex", trex(1, 1024))), box("mdat", make([]byte, 500)), fragment(500, fragTraf(1, 0, 47))),
			want: want{duration: 2 * second / float64(rate), sampleRate: rate, channels: 1}},
		{name: "not fragmented: no duration in the headers, the stts says", format: formatM4A,
			file: concat(ftyp("M4A "), box("moov", mvhd(1000, 0), soundTrak(1, rate, rate<<16, 1, asc, stts([2]uint32{46, 1024}, [2]uint32{1, 1024})))),
			want: want{duration: second / float64(rate), sampleRate: rate, channels: 1}},
		{name: "trex missing: unknown", format: formatM4A,
			file: concat(ftyp("iso6"), box("moov", mvhd(1000, 0), soundTrak(1, rate, rate<<16, 1, asc)), fragment(500, fragTraf(1, 0, 47))),
			want: want{duration: -1, sampleRate: rate, channels: 1}},
	}
	// Cut in the last fragment's media data: half of it is there.
	whole := concat(ftyp("iso6"), moov(), fragment(500, fragTraf(1, 0, 47)), fragment(1000, fragTraf(1, 0, 47)))
	tests[3].file = whole[:len(whole)-500]
	runProbeCases(t, tests)
}

func repeat(v uint32, n int) []uint32 {
	out := make([]uint32, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// TestProbeMP4SampleRate: ffprobe's sample_rate and channels for each
// configuration, checked on tail.m4a-like files whose esds was rewritten
// (see testdata/README.md): HE-AAC 22.05 kHz core, 44.1 kHz out.
func TestProbeMP4SampleRate(t *testing.T) {
	const (
		aot   = 5
		rate  = 4
		chans = 4
	)
	lc2205 := [][2]int{{aot, 2}, {rate, 7}, {chans, 1}, {3, 0}}
	tests := []struct {
		name                string
		timescale, entry    uint32
		asc                 []byte
		wantRate, wantChans int
	}{
		{name: "AAC-LC", timescale: 22050, entry: 22050 << 16, asc: ascBits(lc2205...), wantRate: 22050, wantChans: 1},
		{name: "AAC-LC, SBR said absent (ffmpeg's encoder)", timescale: 22050, entry: 22050 << 16, asc: []byte{0x13, 0x88, 0x56, 0xE5, 0x00}, wantRate: 22050, wantChans: 1},
		{name: "HE-AAC, explicit: object type 5", timescale: 44100, entry: 22050 << 16, asc: ascBits([2]int{aot, 5}, [2]int{rate, 7}, [2]int{chans, 1}, [2]int{rate, 4}, [2]int{aot, 2}, [2]int{3, 0}), wantRate: 44100, wantChans: 2},
		{name: "HE-AAC stereo, explicit", timescale: 44100, entry: 22050 << 16, asc: ascBits([2]int{aot, 5}, [2]int{rate, 7}, [2]int{chans, 2}, [2]int{rate, 4}, [2]int{aot, 2}, [2]int{3, 0}), wantRate: 44100, wantChans: 2},
		{name: "HE-AAC v2, explicit: object type 29", timescale: 44100, entry: 22050 << 16, asc: ascBits([2]int{aot, 29}, [2]int{rate, 7}, [2]int{chans, 1}, [2]int{rate, 4}, [2]int{aot, 2}, [2]int{3, 0}), wantRate: 44100, wantChans: 2},
		{name: "HE-AAC, backward-compatible sync extension", timescale: 22050, entry: 22050 << 16, asc: ascBits(append(lc2205, [2]int{11, 0x2B7}, [2]int{aot, 5}, [2]int{1, 1}, [2]int{rate, 4})...), wantRate: 44100, wantChans: 2},
		{name: "HE-AAC, sync extension saying no PS", timescale: 22050, entry: 22050 << 16, asc: ascBits(append(lc2205, [2]int{11, 0x2B7}, [2]int{aot, 5}, [2]int{1, 1}, [2]int{rate, 4}, [2]int{11, 0x548}, [2]int{1, 0})...), wantRate: 44100, wantChans: 1},
		{name: "HE-AAC, implicit: the timescale is twice the core's rate", timescale: 44100, entry: 22050 << 16, asc: ascBits(lc2205...), wantRate: 44100, wantChans: 2},
		{name: "96 kHz, the entry's rate overflowed", timescale: 96000, entry: 96000 << 16 & 0xFFFFFFFF, asc: ascBits([2]int{aot, 2}, [2]int{rate, 0}, [2]int{chans, 2}, [2]int{3, 0}), wantRate: 96000, wantChans: 2},
		{name: "96 kHz, the entry's rate 0 (ffmpeg)", timescale: 96000, entry: 0, asc: ascBits([2]int{aot, 2}, [2]int{rate, 0}, [2]int{chans, 2}, [2]int{3, 0}), wantRate: 96000, wantChans: 2},
		{name: "96 kHz without esds: the timescale", timescale: 96000, entry: 96000 << 16 & 0xFFFFFFFF, wantRate: 96000, wantChans: 2},
		{name: "explicit 24-bit rate", timescale: 8000, entry: 8000 << 16, asc: ascBits([2]int{aot, 2}, [2]int{rate, 15}, [2]int{24, 8000}, [2]int{chans, 1}, [2]int{3, 0}), wantRate: 8000, wantChans: 1},
		{name: "damaged config: the entry's rate", timescale: 8000, entry: 8000 << 16, asc: []byte{0x17}, wantRate: 8000, wantChans: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := concat(ftyp("M4A "), box("moov", mvhd(1000, 1000), soundTrak(1, tt.timescale, tt.entry, 2, tt.asc)))
			info, err := probeBytes(file, formatM4A)
			if err != nil {
				t.Fatal(err)
			}
			if info.SampleRate != tt.wantRate || info.Channels != tt.wantChans {
				t.Errorf("got %d Hz × %d, want %d Hz × %d", info.SampleRate, info.Channels, tt.wantRate, tt.wantChans)
			}
		})
	}

	// The 96 kHz fixture with its entry's rate overflowed, as writers
	// other than ffmpeg leave it.
	hires := readFixture(t, "hires.m4a")
	at := bytes.Index(hires, []byte("mp4a"))
	binary.BigEndian.PutUint32(hires[at+4+24:], 96000<<16&0xFFFFFFFF)
	if info, err := probeBytes(hires, formatM4A); err != nil || info.SampleRate != 96000 {
		t.Errorf("hires.m4a, rate overflowed: %d Hz, %v", info.SampleRate, err)
	}
}

func TestProbeMP3CountsFrames(t *testing.T) {
	const perFrame = 1152 / 44100.0
	var silentThenLoud []byte // 40 frames at 32 kbit/s, 40 at 320
	for range 40 {
		silentThenLoud = append(silentThenLoud, mpeg1Frame(1)...)
	}
	for range 40 {
		silentThenLoud = append(silentThenLoud, mpeg1Frame(14)...)
	}
	junk := bytes.Repeat([]byte("junk"), 250)
	junk[100] = 0xFF // a stray sync
	half := readFixture(t, "id3v24.mp3")[:852]
	runProbeCases(t, []probeCase{
		{name: "VBR without Xing: counted, not by the first frame's bitrate", format: formatMP3,
			file: silentThenLoud, want: want{duration: 80 * perFrame, sampleRate: 44100, channels: 1}},
		{name: "junk in the middle", format: formatMP3,
			file: concat(mpeg1Frames(9, 9, 9), junk, mpeg1Frames(9, 9, 9, 9)), want: want{duration: 7 * perFrame, sampleRate: 44100, channels: 1}},
		{name: "two files joined, the second's tag between", format: formatMP3,
			file: concat(mpeg1Frames(9, 9, 9), id3Tag(3, 0, id3Frame(3, "TIT2", 0, latin1Text("Second"))), mpeg1Frames(5, 5, 5, 5)), want: want{duration: 7 * perFrame, sampleRate: 44100, channels: 1}},
		{name: "zeros after the audio", format: formatMP3,
			file: concat(mpeg1Frames(9, 9, 9, 9), make([]byte, 200<<10)), want: want{duration: 4 * perFrame, sampleRate: 44100, channels: 1}},
		{name: "last frame cut", format: formatMP3,
			file: concat(mpeg1Frames(9, 9, 9, 9), mpeg1Frame(9)[:100]), want: want{duration: 4 * perFrame, sampleRate: 44100, channels: 1}},
		{name: "ID3v1 at the end is not a frame", format: formatMP3,
			file: concat(mpeg1Frames(9, 9, 9, 9), append([]byte("TAG"), make([]byte, 125)...)), want: want{duration: 4 * perFrame, sampleRate: 44100, channels: 1}},
		// ffprobe: 11 packets, the 11th cut short; its duration says
		// 1.071 (the Xing header's, "growing file?").
		{name: "Xing header, file cut in half: the frames there", format: formatMP3,
			file: half, want: want{duration: 10 * 576 / 22050.0, title: fixtureTitle, date: "1998-07-14", sampleRate: 22050, channels: 1}},
	})
}

func TestProbeID3ThreeLetterIDsInV23(t *testing.T) {
	cbr := readFixture(t, "cbr.mp3")
	// iTunes: "TT2\x00" in a v2.3 frame header; ffprobe reads title and
	// date from it.
	tag := id3Tag(3, 0,
		id3Frame(3, "TT2\x00", 0, latin1Text("iTunes Title")),
		id3Frame(3, "COM\x00", 0, []byte("\x00engx\x00comment")),
		id3Frame(3, "TYE\x00", 0, latin1Text("1998")),
		id3Frame(3, "TDA\x00", 0, latin1Text("1407")))
	runProbeCases(t, []probeCase{
		{name: "v2.2 ids padded with NUL", format: formatMP3, file: concat(tag, cbr),
			want: want{duration: 1.045, title: "iTunes Title", date: "1998-07-14", sampleRate: 44100, channels: 1}},
		{name: "v2.2 id padded with a space", format: formatMP3, file: concat(id3Tag(3, 0, id3Frame(3, "COM ", 0, []byte("\x00engx\x00c")), id3Frame(3, "TIT2", 0, latin1Text("After COM"))), cbr),
			want: want{duration: 1.045, title: "After COM", sampleRate: 44100, channels: 1}},
		{name: "padding still ends the walk", format: formatMP3, file: concat(id3Tag(3, 0, make([]byte, 20), id3Frame(3, "TIT2", 0, latin1Text("Hidden"))), cbr),
			want: want{duration: 1.045, sampleRate: 44100, channels: 1}},
	})
}

func TestProbeTaggedWAVAndAIFF(t *testing.T) {
	tag := id3Tag(3, 0, id3Frame(3, "TIT2", 0, latin1Text("In Front")), id3Frame(3, "TYER", 0, latin1Text("2002")))
	wav := riffFile("RIFF", nil, fmtChunk(1, 1, 8000, 16), chunk{id: "data", data: make([]byte, 16000)})
	aiff := iffFile("AIFF", commChunk(1, 8000, 16, 8000, ""), ssndChunk(16000))
	for _, tt := range []struct {
		file []byte
		want Format
	}{{concat(tag, wav), formatWAV}, {concat(tag, aiff), formatAIFF}} {
		if got, ok := Sniff(tt.file); !ok || got != tt.want {
			t.Errorf("Sniff: got %q %v, want %q", got.Name, ok, tt.want.Name)
		}
	}
	runProbeCases(t, []probeCase{
		{name: "WAV behind an ID3v2 tag", format: formatWAV, file: concat(tag, wav),
			want: want{duration: 1, title: "In Front", date: "2002-01-01", sampleRate: 8000, channels: 1}},
		{name: "the WAV's own tags win", format: formatWAV, file: concat(tag, riffFile("RIFF", nil, fmtChunk(1, 1, 8000, 16), infoList("INAM", "Own"), chunk{id: "data", data: make([]byte, 16000)})),
			want: want{duration: 1, title: "Own", date: "2002-01-01", sampleRate: 8000, channels: 1}},
		{name: "AIFF behind an ID3v2 tag", format: formatAIFF, file: concat(tag, aiff),
			want: want{duration: 1, title: "In Front", date: "2002-01-01", sampleRate: 8000, channels: 1}},
	})
	info, err := probeBytes(concat(tag, wav), formatWAV)
	if err != nil || info.PCM == nil || info.PCM.Offset != int64(len(tag))+44 || info.PCM.Length != 16000 {
		t.Errorf("PCM behind the tag: %+v, %v", info.PCM, err)
	}
}

func TestProbeDamagedHeadersGiveNoZero(t *testing.T) {
	// IMA ADPCM, 8 kHz mono, its byte rate 0 as some writers leave it.
	noByteRate := chunk{id: "fmt ", data: []byte{0x11, 0, 1, 0, 0x40, 0x1F, 0, 0, 0, 0, 0, 0, 0, 1, 4, 0}}
	adpcm := chunk{id: "fmt ", data: []byte{0x11, 0, 1, 0, 0x40, 0x1F, 0, 0, 0xD7, 0x0F, 0, 0, 0, 1, 4, 0}}
	fact := func(n uint32) chunk { return chunk{id: "fact", data: binary.LittleEndian.AppendUint32(nil, n)} }
	noAlign := fmtChunk(1, 2, 8000, 16)
	binary.LittleEndian.PutUint16(noAlign.data[12:], 0)
	flac := readFixture(t, "tone.flac")
	damagedBlock := bytes.Clone(flac)
	damagedBlock[8+34+1] = 0x7F // the block after STREAMINFO claims 8 MB

	runProbeCases(t, []probeCase{
		{name: "WAV: byte rate 0, fact counts the frames", format: formatWAV,
			file: riffFile("RIFF", nil, noByteRate, fact(8000), chunk{id: "data", data: make([]byte, 4055)}),
			want: want{duration: 1, sampleRate: 8000, channels: 1}},
		{name: "WAV: byte rate 0, fact, data cut in half", format: formatWAV,
			file: riffFile("RIFF", nil, noByteRate, fact(8000), chunk{id: "data", data: make([]byte, 2000), size: claim(4000)}),
			want: want{duration: 0.5, sampleRate: 8000, channels: 1}},
		{name: "WAV: byte rate 0 and no fact: unknown", format: formatWAV,
			file: riffFile("RIFF", nil, noByteRate, chunk{id: "data", data: make([]byte, 4055)}),
			want: want{duration: -1, sampleRate: 8000, channels: 1}},
		{name: "WAV: fact of 0 frames: by the byte rate", format: formatWAV,
			file: riffFile("RIFF", nil, adpcm, fact(0), chunk{id: "data", data: make([]byte, 4055)}),
			want: want{duration: 1, sampleRate: 8000, channels: 1}},
		{name: "WAV: data size 0 though the RIFF size was written", format: formatWAV,
			file: riffFile("RIFF", nil, fmtChunk(1, 1, 8000, 8), chunk{id: "data", data: make([]byte, 8000), size: claim(0)}),
			want: want{duration: 1, sampleRate: 8000, channels: 1}},
		{name: "WAV: an empty data chunk, then LIST", format: formatWAV,
			file: riffFile("RIFF", nil, fmtChunk(1, 1, 8000, 8), chunk{id: "data"}, infoList("INAM", "Empty")),
			want: want{duration: 0, title: "Empty", sampleRate: 8000, channels: 1}},
		{name: "WAV: block align 0", format: formatWAV,
			file: riffFile("RIFF", nil, noAlign, chunk{id: "data", data: make([]byte, 32000)}),
			want: want{duration: 1, sampleRate: 8000, channels: 2}},
		{name: "WAV: block align larger than the data", format: formatWAV,
			file: riffFile("RIFF", nil, chunk{id: "fmt ", data: []byte{1, 0, 1, 0, 0x40, 0x1F, 0, 0, 0x40, 0x1F, 0, 0, 0xFF, 0xFF, 8, 0}}, chunk{id: "data", data: make([]byte, 8000)}),
			want: want{duration: -1, sampleRate: 8000, channels: 1}},
		{name: "AIFF: COMM counts 0 frames, SSND holds a second", format: formatAIFF,
			file: iffFile("AIFF", commChunk(1, 0, 16, 8000, ""), ssndChunk(16000)),
			want: want{duration: 1, sampleRate: 8000, channels: 1}},
		{name: "AIFF-C compressed, COMM counts 0 frames: unknown", format: formatAIFF,
			file: iffFile("AIFC", commChunk(1, 0, 16, 8000, "ima4"), ssndChunk(4000)),
			want: want{duration: -1, sampleRate: 8000, channels: 1}},
		{name: "AIFF: no sound data: no audio", format: formatAIFF,
			file: iffFile("AIFF", commChunk(1, 8000, 16, 8000, "")),
			want: want{duration: 0, sampleRate: 8000, channels: 1}},
		{name: "FLAC: a damaged block length: the frames say", format: formatFLAC,
			file: damagedBlock,
			want: want{duration: 1, title: fixtureTitle, date: "1998-07-14", sampleRate: 8000, channels: 1}},
		{name: "FLAC: cut in its metadata: unknown", format: formatFLAC,
			file: flac[:60],
			want: want{duration: -1, sampleRate: 8000, channels: 1}},
	})
}
