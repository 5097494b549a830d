package audio

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// want is what a probe of a built file should give. duration < 0 means nil.
type want struct {
	err        bool
	duration   float64
	title      string
	date       string // YYYY-MM-DD or ""
	sampleRate int
	channels   int
}

type probeCase struct {
	name   string
	file   []byte
	format Format
	want   want
}

func runProbeCases(t *testing.T, tests []probeCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := probeBytes(tt.file, tt.format)
			if tt.want.err {
				if err == nil {
					t.Fatalf("got no error, want one (info %+v)", info)
				}
				return
			}
			if err != nil {
				t.Fatalf("Probe: %v", err)
			}
			switch {
			case tt.want.duration < 0 && info.Duration != nil:
				t.Errorf("duration: got %s, want nil", durationString(info.Duration))
			case tt.want.duration >= 0 && (info.Duration == nil || !closeTo(*info.Duration, tt.want.duration)):
				t.Errorf("duration: got %s, want %.4fs", durationString(info.Duration), tt.want.duration)
			}
			if info.Title != tt.want.title {
				t.Errorf("title: got %q, want %q", info.Title, tt.want.title)
			}
			if got := formatDate(info.RecordedDate); got != tt.want.date {
				t.Errorf("recorded date: got %q, want %q", got, tt.want.date)
			}
			if info.SampleRate != tt.want.sampleRate || info.Channels != tt.want.channels {
				t.Errorf("got %d Hz × %d channels, want %d Hz × %d", info.SampleRate, info.Channels, tt.want.sampleRate, tt.want.channels)
			}
		})
	}
}

func TestProbeWAV(t *testing.T) {
	mono8k := fmtChunk(1, 1, 8000, 8)
	extensible := fmtChunk(0xFFFE, 2, 44100, 16)
	extensible.data = binary.LittleEndian.AppendUint16(extensible.data, 22)
	extensible.data = append(extensible.data, 16, 0, 3, 0, 0, 0, 1, 0) // valid bits, channel mask, PCM
	extensible.data = append(extensible.data, make([]byte, 14)...)
	ds64 := make([]byte, 28)
	binary.LittleEndian.PutUint64(ds64[8:], 16000)
	adpcm := chunk{id: "fmt ", data: []byte{0x11, 0, 1, 0, 0x40, 0x1F, 0, 0, 0xD7, 0x0F, 0, 0, 0, 1, 4, 0}}
	fact := chunk{id: "fact", data: binary.LittleEndian.AppendUint32(nil, 8000)}

	runProbeCases(t, []probeCase{
		{name: "data size beyond the end of the file", format: formatWAV,
			file: riffFile("RIFF", nil, mono8k, chunk{id: "data", data: make([]byte, 4000), size: claim(80000)}),
			want: want{duration: 0.5, sampleRate: 8000, channels: 1}},
		{name: "header never finished by the recorder", format: formatWAV,
			file: riffFile("RIFF", claim(0), mono8k, chunk{id: "data", data: make([]byte, 8000), size: claim(0)}),
			want: want{duration: 1, sampleRate: 8000, channels: 1}},
		{name: "data size unknown, to the end", format: formatWAV,
			file: riffFile("RIFF", claim(sizeUnknown), mono8k, chunk{id: "data", data: make([]byte, 2000), size: claim(sizeUnknown)}),
			want: want{duration: 0.25, sampleRate: 8000, channels: 1}},
		{name: "RF64 with its sizes in ds64", format: formatWAV,
			file: riffFile("RF64", claim(sizeUnknown), chunk{id: "ds64", data: ds64}, fmtChunk(1, 1, 8000, 16), chunk{id: "data", data: make([]byte, 16000), size: claim(sizeUnknown)}),
			want: want{duration: 1, sampleRate: 8000, channels: 1}},
		{name: "odd-sized data, then LIST/INFO", format: formatWAV,
			file: riffFile("RIFF", nil, mono8k, chunk{id: "data", data: make([]byte, 8001)}, infoList("INAM", "Late Title", "ICRD", "2003-05")),
			want: want{duration: 1.000125, title: "Late Title", date: "2003-05-01", sampleRate: 8000, channels: 1}},
		{name: "extensible 16-bit stereo", format: formatWAV,
			file: riffFile("RIFF", nil, extensible, chunk{id: "data", data: make([]byte, 44100)}),
			want: want{duration: 0.25, sampleRate: 44100, channels: 2}},
		{name: "IMA ADPCM counted by its fact chunk", format: formatWAV,
			file: riffFile("RIFF", nil, adpcm, fact, chunk{id: "data", data: make([]byte, 4055)}),
			want: want{duration: 1, sampleRate: 8000, channels: 1}},
		{name: "IMA ADPCM cut short: by the bytes present", format: formatWAV,
			file: riffFile("RIFF", nil, adpcm, fact, chunk{id: "data", data: make([]byte, 2000), size: claim(4055)}),
			want: want{duration: 0.4932, sampleRate: 8000, channels: 1}},
		{name: "BWF date with colons", format: formatWAV,
			file: riffFile("RIFF", nil, mono8k, bextChunk("1998:07:14"), chunk{id: "data", data: make([]byte, 800)}),
			want: want{duration: 0.1, date: "1998-07-14", sampleRate: 8000, channels: 1}},
		{name: "BWF date with slashes", format: formatWAV,
			file: riffFile("RIFF", nil, mono8k, bextChunk("1998/07/14"), chunk{id: "data", data: make([]byte, 800)}),
			want: want{duration: 0.1, date: "1998-07-14", sampleRate: 8000, channels: 1}},
		{name: "ICRD wins over the BWF date", format: formatWAV,
			file: riffFile("RIFF", nil, mono8k, bextChunk("2020-01-01"), infoList("ICRD", "1998-07-14"), chunk{id: "data", data: make([]byte, 800)}),
			want: want{duration: 0.1, date: "1998-07-14", sampleRate: 8000, channels: 1}},
		{name: "Latin-1 INAM", format: formatWAV,
			file: riffFile("RIFF", nil, mono8k, infoList("INAM", "Caf\xe9 Nights"), chunk{id: "data", data: make([]byte, 800)}),
			want: want{duration: 0.1, title: "Café Nights", sampleRate: 8000, channels: 1}},
		{name: "ID3 chunk", format: formatWAV,
			file: riffFile("RIFF", nil, mono8k, chunk{id: "data", data: make([]byte, 800)}, chunk{id: "id3 ", data: id3Tag(4, 0, id3Frame(4, "TIT2", 0, latin1Text("From ID3")), id3Frame(4, "TDRC", 0, latin1Text("2001")))}),
			want: want{duration: 0.1, title: "From ID3", date: "2001-01-01", sampleRate: 8000, channels: 1}},
		{name: "fmt but no data chunk: no audio", format: formatWAV,
			file: riffFile("RIFF", nil, mono8k),
			want: want{duration: 0, sampleRate: 8000, channels: 1}},
		{name: "no fmt chunk", format: formatWAV,
			file: riffFile("RIFF", nil, chunk{id: "data", data: make([]byte, 800)}), want: want{err: true}},
		{name: "fmt chunk cut short", format: formatWAV,
			file: riffFile("RIFF", nil, chunk{id: "fmt ", data: make([]byte, 10)}), want: want{err: true}},
		{name: "not RIFF", format: formatWAV, file: []byte("RIFX\x00\x00\x00\x00WAVE"), want: want{err: true}},
	})
}

func TestProbeAIFF(t *testing.T) {
	runProbeCases(t, []probeCase{
		{name: "AIFF-C little-endian 16-bit stereo", format: formatAIFF,
			file: iffFile("AIFC", chunk{id: "FVER", data: make([]byte, 4)}, commChunk(2, 4410, 16, 44100, "sowt"), ssndChunk(4410*4)),
			want: want{duration: 0.1, sampleRate: 44100, channels: 2}},
		{name: "sound data shorter than COMM says", format: formatAIFF,
			file: iffFile("AIFF", commChunk(1, 8000, 8, 8000, ""), ssndChunk(4000)),
			want: want{duration: 0.5, sampleRate: 8000, channels: 1}},
		{name: "compressed: COMM's frame count is trusted", format: formatAIFF,
			file: iffFile("AIFC", commChunk(1, 8000, 16, 8000, "ima4"), ssndChunk(100)),
			want: want{duration: 1, sampleRate: 8000, channels: 1}},
		{name: "NAME chunk", format: formatAIFF,
			file: iffFile("AIFF", chunk{id: "NAME", data: []byte("Named")}, commChunk(1, 800, 8, 8000, ""), ssndChunk(800)),
			want: want{duration: 0.1, title: "Named", sampleRate: 8000, channels: 1}},
		{name: "damaged sample rate", format: formatAIFF,
			file: iffFile("AIFF", chunk{id: "COMM", data: append([]byte{0, 1, 0, 0, 3, 0x20, 0, 8}, 0x7F, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0)}, ssndChunk(800)),
			want: want{duration: -1, channels: 1}},
		{name: "no COMM", format: formatAIFF, file: iffFile("AIFF", ssndChunk(800)), want: want{err: true}},
		{name: "COMM cut short", format: formatAIFF, file: iffFile("AIFF", chunk{id: "COMM", data: make([]byte, 10)}), want: want{err: true}},
	})
}

// vbriFrame is an MPEG-1 Layer III mono frame (128 kbit/s, 44.1 kHz, 417
// bytes) carrying a VBRI header for the given frame and byte counts.
func vbriFrame(frames, size uint32) []byte {
	f := make([]byte, 417)
	copy(f, []byte{0xFF, 0xFB, 0x90, 0xC4})
	copy(f[36:], "VBRI\x00\x01\x00\x00\x00\x50")
	binary.BigEndian.PutUint32(f[46:], size)
	binary.BigEndian.PutUint32(f[50:], frames)
	return f
}

func plainFrame() []byte {
	f := make([]byte, 417)
	copy(f, []byte{0xFF, 0xFB, 0x90, 0xC4})
	return f
}

// unsync applies ID3 unsynchronisation: a zero after every 0xFF.
func unsync(b []byte) []byte {
	var out []byte
	for _, c := range b {
		out = append(out, c)
		if c == 0xFF {
			out = append(out, 0)
		}
	}
	return out
}

func TestProbeMP3(t *testing.T) {
	cbr := readFixture(t, "cbr.mp3")
	const cbrSeconds = 1.045
	mp3 := func(tag []byte) []byte { return concat(tag, cbr) }
	utf16Title := textFrame(1, []byte{0xFF, 0xFE, 'T', 0, 'i', 0, 't', 0, 'l', 0, 'e', 0, 0, 0})
	// "ÿx" in UTF-16BE contains 0xFF 0x00 and so needs unsynchronisation.
	unsynced := unsync(textFrame(2, []byte{0, 0xFF, 0, 'x'}))
	dli := append(syncsafeBytes(5), unsynced...)
	wholeTag := concat(id3Frame(3, "TIT2", 0, latin1Text("a\xff\xe0b")), id3Frame(3, "TYER", 0, latin1Text("1999")))
	wholeTagUnsynced := append(append([]byte("ID3\x03\x00\x80"), syncsafeBytes(len(unsync(wholeTag)))...), unsync(wholeTag)...)
	v1 := make([]byte, 128)
	copy(v1, "TAGOld Tag")
	copy(v1[93:], "1998")

	runProbeCases(t, []probeCase{
		{name: "ID3v2.3 TYER and TDAT, UTF-16 title", format: formatMP3,
			file: mp3(id3Tag(3, 0, id3Frame(3, "TIT2", 0, utf16Title), id3Frame(3, "TYER", 0, latin1Text("1998")), id3Frame(3, "TDAT", 0, latin1Text("1407")))),
			want: want{duration: cbrSeconds, title: "Title", date: "1998-07-14", sampleRate: 44100, channels: 1}},
		{name: "ID3v2.3 TYER alone", format: formatMP3,
			file: mp3(id3Tag(3, 0, id3Frame(3, "TYER", 0, latin1Text("1998")))),
			want: want{duration: cbrSeconds, date: "1998-01-01", sampleRate: 44100, channels: 1}},
		{name: "ID3v2.2", format: formatMP3,
			file: mp3(id3Tag(2, 0, id3Frame(2, "TT2", 0, latin1Text("Old Version")), id3Frame(2, "TYE", 0, latin1Text("1995")))),
			want: want{duration: cbrSeconds, title: "Old Version", date: "1995-01-01", sampleRate: 44100, channels: 1}},
		{name: "ID3v2.4 frame unsynchronised, with a data length indicator", format: formatMP3,
			file: mp3(id3Tag(4, 0, id3Frame(4, "TIT2", 0x0003, dli))),
			want: want{duration: cbrSeconds, title: "ÿx", sampleRate: 44100, channels: 1}},
		{name: "ID3v2.3 whole tag unsynchronised", format: formatMP3,
			file: mp3(wholeTagUnsynced),
			want: want{duration: cbrSeconds, title: "aÿàb", date: "1999-01-01", sampleRate: 44100, channels: 1}},
		{name: "ID3v2.3 extended header", format: formatMP3,
			file: mp3(id3Tag(3, 0x40, []byte{0, 0, 0, 6, 0, 0, 0, 0, 0, 0}, id3Frame(3, "TIT2", 0, latin1Text("Extended")))),
			want: want{duration: cbrSeconds, title: "Extended", sampleRate: 44100, channels: 1}},
		{name: "ID3v2.4 extended header", format: formatMP3,
			file: mp3(id3Tag(4, 0x40, []byte{0, 0, 0, 6, 1, 0}, id3Frame(4, "TIT2", 0, textFrame(3, []byte("Extended 2.4"))))),
			want: want{duration: cbrSeconds, title: "Extended 2.4", sampleRate: 44100, channels: 1}},
		{name: "compressed frame skipped", format: formatMP3,
			file: mp3(id3Tag(3, 0, id3Frame(3, "TIT2", 0x0080, latin1Text("zlib?")), id3Frame(3, "TIT2", 0, latin1Text("Plain")))),
			want: want{duration: cbrSeconds, title: "Plain", sampleRate: 44100, channels: 1}},
		{name: "frame running past the tag: the frames before it stay", format: formatMP3,
			file: mp3(id3Tag(3, 0, id3Frame(3, "TIT2", 0, latin1Text("Kept")), []byte("TYER\x7f\x00\x00\x00\x00\x001998"))),
			want: want{duration: cbrSeconds, title: "Kept", sampleRate: 44100, channels: 1}},
		{name: "Latin-1 title", format: formatMP3,
			file: mp3(id3Tag(3, 0, id3Frame(3, "TIT2", 0, latin1Text("Caf\xe9")))),
			want: want{duration: cbrSeconds, title: "Café", sampleRate: 44100, channels: 1}},
		{name: "two ID3v2 tags in a row: the first one's fields win", format: formatMP3,
			file: mp3(concat(id3Tag(4, 0, id3Frame(4, "TIT2", 0, latin1Text("New"))), id3Tag(3, 0, id3Frame(3, "TIT2", 0, latin1Text("Old")), id3Frame(3, "TYER", 0, latin1Text("1997")), make([]byte, 5000)))),
			want: want{duration: cbrSeconds, title: "New", date: "1997-01-01", sampleRate: 44100, channels: 1}},
		{name: "ID3v1 at the end", format: formatMP3,
			file: concat(cbr, v1),
			want: want{duration: cbrSeconds, title: "Old Tag", date: "1998-01-01", sampleRate: 44100, channels: 1}},
		{name: "VBRI header", format: formatMP3,
			file: concat(vbriFrame(100, 3*417), plainFrame(), plainFrame()),
			want: want{duration: 100 * 1152 / 44100.0, sampleRate: 44100, channels: 1}},
		{name: "tag with no audio after it", format: formatMP3,
			file: id3Tag(4, 0, id3Frame(4, "TIT2", 0, latin1Text("x"))), want: want{err: true}},
		{name: "not MPEG at all", format: formatMP3, file: []byte("hello"), want: want{err: true}},
	})
}

func TestProbeFLAC(t *testing.T) {
	flac := readFixture(t, "tone.flac")
	noTotal := bytes.Clone(flac)
	noTotal[8+13] &= 0xF0 // STREAMINFO total samples: unknown
	copy(noTotal[8+14:], []byte{0, 0, 0, 0})

	runProbeCases(t, []probeCase{
		{name: "behind an ID3v2 tag: FLAC's own comments win", format: formatFLAC,
			file: concat(id3Tag(4, 0, id3Frame(4, "TIT2", 0, latin1Text("ID3 title")), id3Frame(4, "TDRC", 0, latin1Text("2001-02-03"))), flac),
			want: want{duration: 1, title: fixtureTitle, date: "1998-07-14", sampleRate: 8000, channels: 1}},
		{name: "total samples unknown: counted from the last frame", format: formatFLAC,
			file: noTotal,
			want: want{duration: 1, title: fixtureTitle, date: "1998-07-14", sampleRate: 8000, channels: 1}},
		{name: "STREAMINFO cut short", format: formatFLAC, file: flac[:20], want: want{err: true}},
		{name: "no fLaC marker", format: formatFLAC, file: bytes.Repeat([]byte("x"), 100), want: want{err: true}},
	})
}

func TestProbeOgg(t *testing.T) {
	comments := func(prefix string, pairs ...string) []byte {
		b := append([]byte(prefix), 3, 0, 0, 0, 'g', 'o', '!')
		b = binary.LittleEndian.AppendUint32(b, uint32(len(pairs)))
		for _, p := range pairs {
			b = binary.LittleEndian.AppendUint32(b, uint32(len(p)))
			b = append(b, p...)
		}
		return b
	}
	vorbis := func(last []byte) []byte {
		return concat(
			oggPageBytes(2, 0, 9, vorbisID(2, 8000)),
			oggPageBytes(0, 0, 9, comments("\x03vorbis", "title=Lower Case Keys", "Date=1998-07-14"), []byte("\x05vorbis setup")),
			oggPageBytes(0, 8000, 9, make([]byte, 300)),
			last,
		)
	}
	badCRC := oggPageBytes(4, 16000, 9, make([]byte, 300))
	badCRC[22]++

	runProbeCases(t, []probeCase{
		{name: "Vorbis: last granule over the rate", format: formatOgg,
			file: vorbis(oggPageBytes(4, 16000, 9, make([]byte, 300))),
			want: want{duration: 2, title: "Lower Case Keys", date: "1998-07-14", sampleRate: 8000, channels: 2}},
		{name: "last page damaged: the one before it counts", format: formatOgg,
			file: vorbis(badCRC),
			want: want{duration: 1, title: "Lower Case Keys", date: "1998-07-14", sampleRate: 8000, channels: 2}},
		{name: "another stream's page last", format: formatOgg,
			file: vorbis(oggPageBytes(4, 999999, 10, make([]byte, 300))),
			want: want{duration: 1, title: "Lower Case Keys", date: "1998-07-14", sampleRate: 8000, channels: 2}},
		{name: "Opus pre-skip longer than the stream", format: formatOgg,
			file: concat(oggPageBytes(2, 0, 3, opusHead(1, 3840, 16000)), oggPageBytes(0, 0, 3, comments("OpusTags")), oggPageBytes(4, 1000, 3, make([]byte, 10))),
			want: want{duration: 0, sampleRate: 48000, channels: 1}},
		{name: "comment packet split over pages", format: formatOgg,
			file: splitCommentPacket(comments("OpusTags", "TITLE=Split", "DATE=2004")),
			want: want{duration: 1, title: "Split", date: "2004-01-01", sampleRate: 48000, channels: 2}},
		{name: "not the beginning of a stream", format: formatOgg,
			file: oggPageBytes(0, 0, 9, vorbisID(2, 8000)), want: want{err: true}},
		{name: "Speex", format: formatOgg,
			file: oggPageBytes(2, 0, 9, []byte("Speex   "+string(make([]byte, 72)))), want: want{err: true}},
	})
}

// splitCommentPacket builds an Opus stream whose comment packet spans two
// pages (a lacing value of 255 ends the first page).
func splitCommentPacket(packet []byte) []byte {
	packet = append(packet, make([]byte, 300-len(packet))...) // padding inside the packet
	page := func(flags byte, lacing []byte, data []byte) []byte {
		b := append([]byte("OggS"), 0, flags)
		b = binary.LittleEndian.AppendUint64(b, 0)
		b = binary.LittleEndian.AppendUint32(b, 5)
		b = append(b, make([]byte, 8)...)
		b = append(b, byte(len(lacing)))
		b = append(b, lacing...)
		b = append(b, data...)
		binary.LittleEndian.PutUint32(b[22:], oggCRC(b))
		return b
	}
	return concat(
		oggPageBytes(2, 0, 5, opusHead(2, 0, 48000)),
		page(0, []byte{255}, packet[:255]),
		page(1, []byte{byte(len(packet) - 255)}, packet[255:]),
		oggPageBytes(4, 48000, 5, make([]byte, 10)),
	)
}

func TestProbeMP4(t *testing.T) {
	quickTimeMeta := box("meta", box("hdlr", make([]byte, 25)), box("ilst", ilstItem("\xa9nam", "QuickTime Style"), ilstItem("\xa9day", "1998-07-14T10:00:00Z")))
	mvhd1 := fullBox("mvhd", 1, make([]byte, 16), binary.BigEndian.AppendUint32(nil, 48000), binary.BigEndian.AppendUint64(nil, 96000), make([]byte, 80))

	runProbeCases(t, []probeCase{
		{name: "iTunes tags in udta/meta/ilst", format: formatM4A,
			file: concat(ftyp("M4A ", "isom"), box("moov", mvhd(1000, 2500), trak("soun"), box("udta", fullBox("meta", 0, box("hdlr", make([]byte, 25)), box("ilst", ilstItem("\xa9nam", "Tagged"), ilstItem("\xa9day", "1998")))))),
			want: want{duration: 2.5, title: "Tagged", date: "1998-01-01", sampleRate: 44100, channels: 2}},
		{name: "QuickTime-style meta without version", format: formatM4A,
			file: concat(ftyp("mp42"), box("moov", mvhd(1000, 2500), trak("soun"), box("udta", quickTimeMeta))),
			want: want{duration: 2.5, title: "QuickTime Style", date: "1998-07-14", sampleRate: 44100, channels: 2}},
		{name: "version 1 movie header", format: formatM4A,
			file: concat(ftyp("isom"), box("moov", mvhd1, trak("soun"))),
			want: want{duration: 2, sampleRate: 44100, channels: 2}},
		{name: "fragmented: duration from mehd", format: formatM4A,
			file: concat(ftyp("iso6"), box("moov", mvhd(1000, 0), trak("soun"), box("mvex", fullBox("mehd", 0, binary.BigEndian.AppendUint32(nil, 5000))))),
			want: want{duration: 5, sampleRate: 44100, channels: 2}},
		{name: "media data cut in half", format: formatM4A,
			file: concat(ftyp("M4A "), box("moov", mvhd(1000, 4000), trak("soun")), box("mdat", make([]byte, 2000))[:8+1000]),
			want: want{duration: 2, sampleRate: 44100, channels: 2}},
		{name: "no sound track", format: formatM4A,
			file: concat(ftyp("isom"), box("moov", mvhd(1000, 1000), trak("vide"))), want: want{err: true}},
		{name: "no movie header", format: formatM4A,
			file: concat(ftyp("isom"), box("mdat", make([]byte, 100))), want: want{err: true}},
		{name: "no ftyp", format: formatM4A, file: box("moov", mvhd(1000, 1000), trak("soun")), want: want{err: true}},
	})
}

// TestProbeGuardsLengths gives each parser length fields that claim far
// more than the file holds: Probe must not allocate for the claims.
func TestProbeGuardsLengths(t *testing.T) {
	huge := uint32(0xFFFFFFF0)
	flacHead := readFixture(t, "tone.flac")[:42]
	tests := []struct {
		name   string
		file   []byte
		format Format
	}{
		{name: "WAV chunks", format: formatWAV, file: riffFile("RIFF", claim(huge), chunk{id: "fmt ", data: fmtChunk(1, 1, 8000, 8).data, size: claim(huge)})},
		{name: "WAV LIST", format: formatWAV, file: riffFile("RIFF", nil, fmtChunk(1, 1, 8000, 8), chunk{id: "LIST", data: []byte("INFOINAM\xff\xff\xff\xff"), size: claim(huge)})},
		{name: "AIFF chunks", format: formatAIFF, file: iffFile("AIFF", chunk{id: "NAME", data: []byte("x"), size: claim(huge)})},
		{name: "ID3 frame", format: formatMP3, file: concat([]byte("ID3\x03\x00\x00\x7f\x7f\x7f\x7f"), []byte("TIT2\x7f\xff\xff\xff\x00\x00"), plainFrame(), plainFrame())},
		{name: "ID3 unsynchronised tag", format: formatMP3, file: concat([]byte("ID3\x03\x00\x80\x7f\x7f\x7f\x7f"), plainFrame())},
		{name: "FLAC blocks and comments", format: formatFLAC, file: concat(flacHead[:4], []byte{0}, flacHead[5:42], []byte{0x84, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F})},
		{name: "Ogg comments", format: formatOgg, file: concat(oggPageBytes(2, 0, 1, vorbisID(1, 8000)), oggPageBytes(0, 0, 1, []byte("\x03vorbis\xff\xff\xff\xff")))},
		{name: "MP4 boxes", format: formatM4A, file: concat(ftyp("isom"), []byte("\x00\x00\x00\x01moov\x7f\xff\xff\xff\xff\xff\xff\xff"), box("udta", box("meta")))},
		{name: "MP4 tags", format: formatM4A, file: concat(ftyp("isom"), box("moov", trak("soun"), box("udta", fullBox("meta", 0, box("ilst", []byte("\xff\xff\xff\xff\xa9nam\xff\xff\xff\xffdata"))))))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := leastAllocatedBy(func() { probeBytes(tt.file, tt.format) })
			if limit := uint64(32<<10 + 16*len(tt.file)); n > limit {
				t.Errorf("allocated %d bytes probing %d, want at most %d", n, len(tt.file), limit)
			}
		})
	}
}

func TestProbePCM(t *testing.T) {
	wav := readFixture(t, "bwf.wav")
	aiff := readFixture(t, "tone.aiff")
	float64Stereo := fmtChunk(3, 2, 48000, 64)
	tests := []struct {
		name   string
		file   []byte
		format Format
		want   *PCM
	}{
		{name: "8-bit WAV", file: wav, format: formatWAV,
			want: &PCM{Offset: int64(bytes.Index(wav, []byte("data"))) + 8, Length: 8000, Bits: 8, Channels: 1, Unsigned: true}},
		{name: "8-bit AIFF", file: aiff, format: formatAIFF,
			want: &PCM{Offset: int64(bytes.Index(aiff, []byte("SSND"))) + 16, Length: 8000, Bits: 8, Channels: 1, BigEndian: true}},
		{name: "WAV cut short: only what is there", format: formatWAV,
			file: riffFile("RIFF", nil, fmtChunk(1, 2, 44100, 24), chunk{id: "data", data: make([]byte, 600), size: claim(6000)}),
			want: &PCM{Offset: 44, Length: 600, Bits: 24, Channels: 2}},
		{name: "64-bit float WAV", format: formatWAV,
			file: riffFile("RIFF", nil, float64Stereo, chunk{id: "data", data: make([]byte, 160)}),
			want: &PCM{Offset: 44, Length: 160, Bits: 64, Channels: 2, Float: true}},
		{name: "little-endian AIFF-C", format: formatAIFF,
			file: iffFile("AIFC", commChunk(2, 100, 16, 44100, "sowt"), ssndChunk(400)),
			want: &PCM{Offset: 12 + 8 + 24 + 16, Length: 400, Bits: 16, Channels: 2}},
		{name: "A-law WAV is not linear PCM", format: formatWAV,
			file: riffFile("RIFF", nil, fmtChunk(6, 1, 8000, 8), chunk{id: "data", data: make([]byte, 80)})},
		{name: "compressed AIFF-C", format: formatAIFF,
			file: iffFile("AIFC", commChunk(1, 100, 16, 8000, "ima4"), ssndChunk(400))},
		{name: "WAV without data", format: formatWAV, file: riffFile("RIFF", nil, fmtChunk(1, 1, 8000, 8))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := probeBytes(tt.file, tt.format)
			if err != nil {
				t.Fatalf("Probe: %v", err)
			}
			switch {
			case tt.want == nil && info.PCM != nil:
				t.Errorf("got %+v, want nil", *info.PCM)
			case tt.want != nil && (info.PCM == nil || *info.PCM != *tt.want):
				t.Errorf("got %+v, want %+v", info.PCM, *tt.want)
			}
		})
	}
}
