package db

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Cursor is where a page of the recordings list starts: after the row
// with these sort keys, in this sort. Clients get it as an opaque string
// (Encode) and give it back (ParseCursor); a cursor of one sort is refused
// for another.
type Cursor struct {
	sort string
	keys []any // per sort key: float64, int64, time.Time, string, uuid.UUID, or nil
}

// ErrBadCursor is a cursor that is not one this list gave out.
var ErrBadCursor = errors.New("not a cursor of this list")

// keyDests are the scan destinations of a row's sort keys.
func keyDests(keys []sortKey) []any {
	dests := make([]any, len(keys))
	for i, k := range keys {
		switch k.kind {
		case keyFloat:
			dests[i] = new(*float64)
		case keyInt:
			dests[i] = new(int64)
		case keyTime:
			dests[i] = new(time.Time)
		case keyDate:
			dests[i] = new(*time.Time)
		case keyText:
			dests[i] = new(string)
		case keyUUID:
			dests[i] = new(uuid.UUID)
		}
	}
	return dests
}

// newCursor is the cursor after the row whose keys were scanned into dests.
func newCursor(sort string, keys []sortKey, dests []any) *Cursor {
	c := &Cursor{sort: sort, keys: make([]any, len(keys))}
	for i, d := range dests {
		switch v := d.(type) {
		case **float64:
			if *v != nil {
				c.keys[i] = **v
			}
		case **time.Time:
			if *v != nil {
				c.keys[i] = **v
			}
		case *int64:
			c.keys[i] = *v
		case *time.Time:
			c.keys[i] = *v
		case *string:
			c.keys[i] = *v
		case *uuid.UUID:
			c.keys[i] = *v
		}
	}
	return c
}

// condition is the WHERE of the rows after the cursor, over the columns
// k0, k1… of the list, its values appended to args: after on the first
// key, or equal on it and after on the rest. What has no value comes
// last in either direction.
func (c *Cursor) condition(keys []sortKey, args []any) (string, []any) {
	var cond string
	for i := len(keys) - 1; i >= 0; i-- {
		col, v := fmt.Sprintf("list.k%d", i), c.keys[i]
		var after, equal string
		if v == nil {
			after, equal = "false", col+" IS NULL" // nothing comes after no value
		} else {
			args = append(args, v)
			op := ">"
			if keys[i].desc {
				op = "<"
			}
			after = fmt.Sprintf("%s %s $%d", col, op, len(args))
			if keys[i].nullable {
				after = fmt.Sprintf("(%s OR %s IS NULL)", after, col)
			}
			equal = fmt.Sprintf("%s = $%d", col, len(args))
		}
		if cond == "" {
			cond = after
		} else {
			cond = fmt.Sprintf("(%s OR (%s AND %s))", after, equal, cond)
		}
	}
	return cond, args
}

type cursorJSON struct {
	Sort string            `json:"s"`
	Keys []json.RawMessage `json:"k"`
}

// Encode is the cursor as clients carry it.
func (c *Cursor) Encode() string {
	out := cursorJSON{Sort: c.sort}
	for _, v := range c.keys {
		if t, ok := v.(time.Time); ok {
			v = t.Format(time.RFC3339Nano) // a date too: the key's kind reads it back
		}
		b, _ := json.Marshal(v)
		out.Keys = append(out.Keys, b)
	}
	b, _ := json.Marshal(out)
	return base64.RawURLEncoding.EncodeToString(b)
}

// MaxCursorLength bounds a cursor (a 200-character title's key and a few
// more).
const MaxCursorLength = 2048

// ParseCursor reads a cursor given out for sort.
func ParseCursor(s, sort string) (*Cursor, error) {
	keys, ok := keysOf(sort)
	if !ok || len(s) > MaxCursorLength {
		return nil, ErrBadCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, ErrBadCursor
	}
	var in cursorJSON
	if err := json.Unmarshal(b, &in); err != nil || in.Sort != sort || len(in.Keys) != len(keys) {
		return nil, ErrBadCursor
	}
	c := &Cursor{sort: sort, keys: make([]any, len(keys))}
	for i, k := range keys {
		raw := strings.TrimSpace(string(in.Keys[i]))
		if raw == "null" {
			if !k.nullable {
				return nil, ErrBadCursor
			}
			continue
		}
		if c.keys[i], err = parseKey(k.kind, in.Keys[i]); err != nil {
			return nil, ErrBadCursor
		}
	}
	return c, nil
}

func parseKey(kind keyKind, raw json.RawMessage) (any, error) {
	switch kind {
	case keyFloat:
		var f float64
		err := json.Unmarshal(raw, &f)
		return f, err
	case keyInt:
		var n int64
		err := json.Unmarshal(raw, &n)
		return n, err
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, err
	}
	switch kind {
	case keyTime:
		return time.Parse(time.RFC3339Nano, s)
	case keyDate:
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, err
		}
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), nil
	case keyUUID:
		return uuid.Parse(s)
	default:
		if strings.ContainsRune(s, 0) { // no text of the archive holds one; PostgreSQL refuses it
			return nil, ErrBadCursor
		}
		return s, nil
	}
}
