// Package waveform draws a recording's loudness over time as a row of
// peaks, computed once after upload so pages can show a picture instead of
// a bare progress bar. The worker feeds it samples that ffmpeg decoded
// (FromSamples), whatever the format. Where ffmpeg is absent (AWS Lambda)
// Compute decodes what pure Go can: PCM (WAV, AIFF), FLAC and MP3; Ogg and
// M4A get none there (ErrUnsupported).
package waveform

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/hajimehoshi/go-mp3"
	"github.com/mewkiz/flac"

	"bandarchive/shared/audio"
)

// Columns is the number of peaks stored per recording: enough for a wide
// screen, small enough to ship in every list.
const Columns = 512

// ErrUnsupported is returned for formats this package cannot decode.
var ErrUnsupported = errors.New("waveform: format cannot be decoded")

// blockFrames is how many frames one raw maximum covers before the final
// resampling to Columns; it keeps memory small for hours of audio.
const blockFrames = 1024

// Floor is the quietest level drawn, in dB below full scale: peaks are
// drawn on a dB scale from Floor (nothing) to 0 dBFS (full height), so a
// quiet passage stays visible and one loud click does not flatten the
// rest, as a scale relative to the loudest moment would.
const Floor = -48.0

// Compute decodes the file and returns Columns peaks, 0–255 on the dB
// scale above. ctx bounds the work.
func Compute(ctx context.Context, r io.ReaderAt, size int64, f audio.Format, info audio.Info) ([]byte, error) {
	acc := &accumulator{ctx: ctx}
	var err error
	switch {
	case info.PCM != nil:
		err = fromPCM(acc, io.NewSectionReader(r, info.PCM.Offset, min(info.PCM.Length, size-info.PCM.Offset)), *info.PCM)
	case f.Name == "flac":
		err = fromFLAC(acc, io.NewSectionReader(r, 0, size))
	case f.Name == "mp3":
		err = fromMP3(acc, io.NewSectionReader(r, 0, size))
	default:
		return nil, ErrUnsupported
	}
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, err // a truncated file still draws what it has
	}
	return acc.peaks(), nil
}

// accumulator keeps the maximum absolute sample of each block of frames.
type accumulator struct {
	ctx    context.Context
	blocks []float32
	cur    float32
	n      int
}

// add takes one frame's largest absolute sample, in 0..1.
func (a *accumulator) add(v float32) {
	if v > a.cur {
		a.cur = v
	}
	if a.n++; a.n == blockFrames {
		a.flush()
	}
}

func (a *accumulator) flush() {
	if a.n > 0 {
		a.blocks = append(a.blocks, a.cur)
	}
	a.cur, a.n = 0, 0
}

// check reports a cancelled context between chunks.
func (a *accumulator) check() error { return a.ctx.Err() }

// peaks resamples the blocks to Columns and scales them to 0–255.
func (a *accumulator) peaks() []byte {
	a.flush()
	out := make([]byte, Columns)
	if len(a.blocks) == 0 {
		return out
	}
	for c := range Columns {
		from := c * len(a.blocks) / Columns
		to := max((c+1)*len(a.blocks)/Columns, from+1)
		var m float32
		for _, v := range a.blocks[from:min(to, len(a.blocks))] {
			m = max(m, v)
		}
		out[c] = scale(m)
	}
	return out
}

// scale maps a peak (0..1 of full scale) to 0–255 on the dB scale.
func scale(peak float32) byte {
	if peak <= 0 {
		return 0
	}
	db := 20 * math.Log10(float64(peak))
	return byte(math.Round(255 * min(max((db-Floor)/-Floor, 0), 1)))
}

// FromSamples reads mono 32-bit float samples (little-endian, as ffmpeg's
// f32le) until EOF and returns their peaks; seconds is how many samples
// there were divided by rate.
func FromSamples(ctx context.Context, r io.Reader, rate int) (peaks []byte, seconds float64, err error) {
	acc := &accumulator{ctx: ctx}
	buf := make([]byte, 1<<20)
	var n int64
	for {
		k, err := io.ReadFull(r, buf)
		k -= k % 4
		for off := 0; off < k; off += 4 {
			v := math.Float32frombits(binary.LittleEndian.Uint32(buf[off:]))
			acc.add(float32(math.Abs(float64(v))))
		}
		n += int64(k / 4)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return nil, 0, err
		}
		if err := acc.check(); err != nil {
			return nil, 0, err
		}
	}
	if rate > 0 {
		seconds = float64(n) / float64(rate)
	}
	return acc.peaks(), seconds, nil
}

// fromPCM reads interleaved integer or float samples.
func fromPCM(a *accumulator, r io.Reader, p audio.PCM) error {
	width := p.Bits / 8
	if p.Bits%8 != 0 || width < 1 || width > 8 || p.Channels < 1 || (p.Float && width != 4 && width != 8) {
		return fmt.Errorf("%w: %d-bit PCM", ErrUnsupported, p.Bits)
	}
	var order binary.ByteOrder = binary.LittleEndian
	if p.BigEndian {
		order = binary.BigEndian
	}
	frame := width * p.Channels
	buf := make([]byte, (1<<20)/frame*frame)
	full := float64(uint64(1) << (p.Bits - 1))
	for {
		n, err := io.ReadFull(r, buf)
		for off := 0; off+frame <= n; off += frame {
			var m float64
			for ch := range p.Channels {
				s := buf[off+ch*width : off+(ch+1)*width]
				m = max(m, math.Abs(sample(s, width, p, order, full)))
			}
			a.add(float32(m))
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := a.check(); err != nil {
			return err
		}
	}
}

// sample decodes one sample to -1..1.
func sample(s []byte, width int, p audio.PCM, order binary.ByteOrder, full float64) float64 {
	switch {
	case p.Float && width == 4:
		return float64(math.Float32frombits(order.Uint32(s)))
	case p.Float:
		return math.Float64frombits(order.Uint64(s))
	case width == 1 && p.Unsigned:
		return (float64(s[0]) - 128) / 128 // WAV's 8-bit samples are unsigned
	}
	var u uint64
	for i := range width {
		b := s[i]
		if !p.BigEndian {
			b = s[width-1-i]
		}
		u = u<<8 | uint64(b)
	}
	shift := 64 - 8*width
	return float64(int64(u<<shift)>>shift) / full
}

func fromFLAC(a *accumulator, r io.Reader) error {
	stream, err := flac.New(r)
	if err != nil {
		return fmt.Errorf("flac: %w", err)
	}
	full := float64(uint64(1) << (stream.Info.BitsPerSample - 1))
	for i := 0; ; i++ {
		f, err := stream.ParseNext()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("flac frame: %w", err)
		}
		for s := range int(f.BlockSize) {
			var m int32
			for _, sub := range f.Subframes {
				v := sub.Samples[s]
				m = max(m, v, -v)
			}
			a.add(float32(float64(m) / full))
		}
		if i%64 == 0 {
			if err := a.check(); err != nil {
				return err
			}
		}
	}
}

func fromMP3(a *accumulator, r io.Reader) error {
	d, err := mp3.NewDecoder(r)
	if err != nil {
		return fmt.Errorf("mp3: %w", err)
	}
	// The decoder always gives 16-bit little-endian stereo.
	return fromPCM(a, d, audio.PCM{Bits: 16, Channels: 2})
}
