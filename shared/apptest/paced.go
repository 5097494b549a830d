package apptest

import (
	"io"
	"time"
)

// Paced delivers body at most rate bytes a second from its first read on,
// as a member's home line does, in reads of at most 64 KiB.
func Paced(body io.ReadCloser, rate int64) io.ReadCloser {
	return &paced{ReadCloser: body, rate: rate}
}

type paced struct {
	io.ReadCloser
	rate  int64
	start time.Time
	n     int64
}

func (p *paced) Read(b []byte) (int, error) {
	if p.start.IsZero() {
		p.start = time.Now()
	}
	time.Sleep(time.Until(p.start.Add(time.Duration(p.n) * time.Second / time.Duration(p.rate)))) // the line's pace
	n, err := p.ReadCloser.Read(b[:min(len(b), 64<<10)])
	p.n += int64(n)
	return n, err
}
