package audio

import (
	"encoding/binary"
	"strings"
	"time"
)

// maxComments bounds the comments read from one Vorbis comment block.
const maxComments = 1024

// readVorbisComments reads TITLE and DATE from a Vorbis comment block (the
// tags of FLAC, Ogg Vorbis and Opus) that starts with the vendor string. A
// block cut short gives the comments before the cut.
func readVorbisComments(b []byte, t *tags, now time.Time) {
	next := func() (string, bool) {
		if len(b) < 4 {
			return "", false
		}
		n := int64(binary.LittleEndian.Uint32(b))
		b = b[4:]
		if n > int64(len(b)) {
			b = nil
			return "", false
		}
		s := string(b[:n])
		b = b[n:]
		return s, true
	}
	if _, ok := next(); !ok { // vendor
		return
	}
	if len(b) < 4 {
		return
	}
	count := binary.LittleEndian.Uint32(b)
	b = b[4:]
	for i := uint32(0); i < count && i < maxComments; i++ {
		c, ok := next()
		if !ok {
			return
		}
		key, value, ok := strings.Cut(c, "=")
		if !ok {
			continue
		}
		switch strings.ToUpper(key) {
		case "TITLE":
			t.setTitle(value)
		case "DATE":
			t.setDate(parseDate(value, now))
		}
	}
}
