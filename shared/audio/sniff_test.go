package audio

import (
	"archive/zip"
	"bytes"
	"math/rand/v2"
	"testing"
)

func TestSniff(t *testing.T) {
	cbr := readFixture(t, "cbr.mp3")
	flac := readFixture(t, "tone.flac")
	firstFrame, _ := parseMPEGFrame(cbr)

	tests := []struct {
		name string
		head []byte
		want string // format name, "" for refused
	}{
		// Not audio at all.
		{name: "empty", head: nil},
		{name: "text named .wav", head: []byte("hello\n")},
		{name: "PNG", head: append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR"), make([]byte, 40)...)},
		{name: "JPEG", head: append([]byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F', 'I', 'F', 0}, make([]byte, 100)...)},
		{name: "PDF", head: []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")},
		{name: "empty ZIP", head: []byte("PK\x05\x06" + string(make([]byte, 18)))},
		{name: "ZIP storing an MP3", head: zipOf(t, "song.mp3", cbr)},
		{name: "random bytes", head: randomBytes(SniffLen)},
		{name: "all 0xFF", head: bytes.Repeat([]byte{0xFF}, SniffLen)},
		{name: "AVI", head: []byte("RIFF\x24\x00\x00\x00AVI LIST\x00\x00\x00\x00")},
		{name: "Amiga 8SVX", head: []byte("FORM\x00\x00\x00\x10" + "8SVXVHDR\x00\x00\x00\x00")},
		{name: "fLaC without STREAMINFO", head: []byte("fLaC\x04\x00\x00\x10" + string(make([]byte, 16)))},

		// Audio we do not accept.
		{name: "a single MPEG frame", head: cbr[:firstFrame.length]},
		{name: "ADTS AAC", head: adtsFrames(8)},
		{name: "ID3 tag then ADTS AAC", head: append(id3Tag(4, 0, id3Frame(4, "TIT2", 0, latin1Text("x"))), adtsFrames(8)...)},
		{name: "ID3 tag alone", head: id3Tag(3, 0, id3Frame(3, "TIT2", 0, latin1Text("just a tag")))},
		{name: "Ogg FLAC", head: oggPageBytes(2, 0, 1, []byte("\x7fFLAC\x01\x00\x00\x01fLaC"+string(make([]byte, 38))))},
		{name: "Ogg Speex", head: oggPageBytes(2, 0, 1, []byte("Speex   "+string(make([]byte, 72))))},
		{name: "Ogg Theora", head: oggPageBytes(2, 0, 1, []byte("\x80theora"+string(make([]byte, 34))))},
		{name: "Ogg Vorbis page that does not begin a stream", head: oggPageBytes(0, 0, 1, vorbisID(1, 8000))},
		{name: "MP4 video without sound", head: concat(ftyp("isom", "isom", "mp42"), box("moov", mvhd(1000, 1000), trak("vide")))},
		{name: "MP4 without a movie header", head: concat(ftyp("isom"), box("mdat", make([]byte, 100)))},
		{name: "QuickTime movie", head: concat(ftyp("qt  ", "qt  "), box("moov", mvhd(600, 600), trak("soun")))},
		{name: "M4V video", head: concat(ftyp("M4V ", "M4V ", "M4A ", "mp42"), box("moov", mvhd(600, 600), trak("soun")))},
		{name: "HEIC image", head: concat(ftyp("heic", "mif1", "heic"), box("meta"))},
		{name: "3GPP", head: concat(ftyp("3gp4", "3gp4"), box("moov", mvhd(600, 600), trak("soun")))},

		// Audio we accept.
		{name: "MP3 after stray bytes", head: append(make([]byte, 100), cbr...), want: "mp3"},
		{name: "MP3 after an ID3v2.3 tag", head: append(id3Tag(3, 0, id3Frame(3, "TIT2", 0, latin1Text("x"))), cbr...), want: "mp3"},
		{name: "MP3 after uncounted tag padding", head: concat(id3Tag(3, 0, id3Frame(3, "TIT2", 0, latin1Text("x"))), make([]byte, 500), cbr), want: "mp3"},
		{name: "MP3 behind two ID3v2 tags", head: concat(id3Tag(4, 0, id3Frame(4, "TIT2", 0, latin1Text("x"))), id3Tag(3, 0, id3Frame(3, "APIC", 0, make([]byte, 6000))), cbr), want: "mp3"},
		{name: "MP3 behind a tag larger than SniffLen", head: concat(id3Tag(4, 0, id3Frame(4, "APIC", 0, make([]byte, SniffLen))), cbr)[:SniffLen], want: "mp3"},
		{name: "FLAC behind an ID3v2 tag", head: append(id3Tag(4, 0, id3Frame(4, "TIT2", 0, latin1Text("x"))), flac...), want: "flac"},
		{name: "RF64", head: riffFile("RF64", claim(sizeUnknown), chunk{id: "ds64", data: make([]byte, 28)}, fmtChunk(1, 2, 48000, 24)), want: "wav"},
		{name: "WAV of 16-bit stereo", head: riffFile("RIFF", nil, fmtChunk(1, 2, 44100, 16), chunk{id: "data", data: make([]byte, 400)}), want: "wav"},
		{name: "AIFF-C", head: iffFile("AIFC", commChunk(2, 100, 16, 44100, "sowt"), ssndChunk(400)), want: "aiff"},
		{name: "MP4 of general brand with sound", head: concat(ftyp("isom", "isom", "mp41"), box("moov", mvhd(1000, 1000), trak("vide"), trak("soun"))), want: "m4a"},
		{name: "MP4 whose movie header is beyond the head", head: concat(ftyp("mp42", "isom"), box("mdat", make([]byte, SniffLen)))[:SniffLen], want: "m4a"},
		{name: "M4A whose movie header follows the media", head: concat(ftyp("M4A ", "isom"), box("mdat", make([]byte, 1000)), box("moov", mvhd(1000, 1000), trak("soun"))), want: "m4a"},
		{name: "Opus", head: oggPageBytes(2, 0, 7, opusHead(2, 312, 44100)), want: "ogg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			head := tt.head[:min(len(tt.head), SniffLen)]
			got, ok := Sniff(head)
			if !ok {
				got.Name = ""
			}
			if got.Name != tt.want {
				t.Errorf("got %q (ok %v), want %q", got.Name, ok, tt.want)
			}
		})
	}
}

func concat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// randomBytes returns n bytes from a fixed seed: the same every run.
func randomBytes(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// zipOf is a ZIP archive storing data uncompressed, so that its frames can
// be found inside it.
func zipOf(t *testing.T, name string, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// adtsFrames is n ADTS AAC frames of 100 bytes each (MPEG sync, layer 0).
func adtsFrames(n int) []byte {
	frame := make([]byte, 100)
	copy(frame, []byte{0xFF, 0xF1, 0x50, 0x80, byte(100 >> 3), byte(100&7)<<5 | 0x1F, 0xFC})
	return bytes.Repeat(frame, n)
}

// vorbisID is a Vorbis identification packet.
func vorbisID(channels byte, rate uint32) []byte {
	b := append([]byte("\x01vorbis"), 0, 0, 0, 0, channels)
	b = append(b, byte(rate), byte(rate>>8), byte(rate>>16), byte(rate>>24))
	return append(b, make([]byte, 14)...)
}

// opusHead is an Opus identification packet.
func opusHead(channels byte, preSkip uint16, inputRate uint32) []byte {
	b := append([]byte("OpusHead"), 1, channels, byte(preSkip), byte(preSkip>>8))
	b = append(b, byte(inputRate), byte(inputRate>>8), byte(inputRate>>16), byte(inputRate>>24))
	return append(b, 0, 0, 0)
}
